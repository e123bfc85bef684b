// Host results this instance stored, kept in memory for the reads that follow them at once.
//
// A worker's long-poll (GET /internal/v1/results/:id) is woken by the result's commit and reads
// it straight after; without this, that read went to the storage thread for what this thread
// had just written. Bounded by bytes (dispatch.result_cache_bytes), the oldest going first.
//
// Only a host's result is kept. It is final until it expires, on every instance: a later
// answer for the same attempt is a duplicate. A result the gateway wrote itself (a timeout)
// gives way to the host's real answer, which another instance may store, so it is never kept.
// An entry past its expiry is a miss, as the store's own read treats it.
//
// Thread: the Sequencer, like ResultStore.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "services/dispatch/stored_result.hpp"

namespace vespid::dispatch {

class RecentResults {
 public:
  explicit RecentResults(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Keeps `r` (a host's result, just made durable), counted as `bytes`, in place of what was
  // kept for its request; a result larger than the whole budget is not kept.
  void keep(StoredResult r, std::size_t bytes);
  // The kept, unexpired result of `request_id`.
  std::optional<StoredResult> find(const std::string& request_id, int64_t now_ms) const;
  void forget(const std::string& request_id);

  std::size_t size() const noexcept { return by_id_.size(); }
  std::size_t bytes() const noexcept { return bytes_; }
  // Places in the eviction queue, forgotten ones included until they are dropped.
  std::size_t places() const noexcept { return order_.size(); }

 private:
  struct Entry {
    StoredResult result;
    std::size_t bytes = 0;
    uint64_t seq = 0;  // matches the entry's newest place in order_
  };
  void evict_to(std::size_t budget);

  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  uint64_t next_seq_ = 0;
  std::unordered_map<std::string, Entry> by_id_;
  // Oldest first. A request kept again leaves its older place behind, skipped when reached.
  std::deque<std::pair<std::string, uint64_t>> order_;
};

}  // namespace vespid::dispatch
