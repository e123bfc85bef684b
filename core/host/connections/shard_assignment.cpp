#include "host/connections/shard_assignment.hpp"

namespace vespid::core {

uint32_t ShardAssignment::for_this_thread(const void* transport) {
  if (shards_ == 1) return 0;  // the gateway's default: no lock, no table
  const auto self = std::this_thread::get_id();
  std::lock_guard lock(mutex_);
  uint32_t threads_of_transport = 0;
  for (const Seen& s : seen_) {
    if (s.transport != transport) continue;
    if (s.thread == self) return s.shard;
    ++threads_of_transport;
  }
  const uint32_t shard = threads_of_transport % shards_;
  seen_.push_back({transport, self, shard});
  return shard;
}

}  // namespace vespid::core
