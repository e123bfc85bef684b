// Which shard of the core a connection belongs to (docs/design.md, "A core on more than one
// thread"). A transport delivers a connection's frames on the I/O thread that owns it, and opens
// it on that thread too, so the shard is chosen once, at open, by the opening thread: each
// transport's first thread gets shard 0, its second shard 1, and so on round the shards. A
// thread keeps its shard for the life of the hub, so every connection of one I/O thread runs in
// one shard, and its frames run inline on the thread that read them.
//
// Counting per transport (not across them) spreads each transport's threads over the shards
// whatever order the transports open their first connections in.
#pragma once

#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace vespid::core {

class ShardAssignment {
 public:
  explicit ShardAssignment(uint32_t shards) : shards_(shards == 0 ? 1 : shards) {}

  // Any thread; at a connection's open, never per frame. `transport` names the transport
  // calling (its identity only; never dereferenced).
  uint32_t for_this_thread(const void* transport);

  uint32_t shards() const noexcept { return shards_; }

 private:
  struct Seen {
    const void* transport;
    std::thread::id thread;
    uint32_t shard;
  };

  const uint32_t shards_;
  std::mutex mutex_;
  std::vector<Seen> seen_;  // guarded by mutex_; one entry per transport thread (a handful)
};

}  // namespace vespid::core
