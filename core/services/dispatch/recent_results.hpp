// Host results this instance stored, kept in memory for the reads that follow them at once.
//
// A worker's long-poll (GET /internal/v1/results/:id) is woken by the result's commit and reads
// it straight after; without this, that read went to the storage thread for what this thread
// had just written. Each result is kept as the text that was stored, so the budget
// (dispatch.result_cache_bytes) counts what is held: the text, the request id and a fixed
// overhead per entry. The oldest go first.
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
#include <string>
#include <unordered_map>

namespace vespid::dispatch {

class RecentResults {
 public:
  // What an entry costs beyond its text and two copies of its request id (the map's key and its
  // queue place): the map node, the queue entry and the allocator's headers (an estimate).
  static constexpr std::size_t kEntryOverhead = 256;

  explicit RecentResults(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Keeps the stored text of a host's result, just made durable, in place of what was kept for
  // its request; one larger than the whole budget is not kept.
  void keep(const std::string& request_id, std::string stored_text, int64_t expires_at_ms);
  // The kept text of `request_id`'s result if it has not expired; valid until the next keep
  // or forget.
  const std::string* find(const std::string& request_id, int64_t now_ms) const;
  void forget(const std::string& request_id);

  std::size_t size() const noexcept { return by_id_.size(); }
  std::size_t bytes() const noexcept { return bytes_; }
  // Places in the eviction queue, forgotten ones included until they are dropped.
  std::size_t places() const noexcept { return order_.size(); }

 private:
  struct Entry {
    std::string text;
    int64_t expires_at_ms = 0;
    std::size_t bytes = 0;
    uint64_t seq = 0;  // matches the entry's newest place in order_
  };
  void evict_to(std::size_t budget);
  void drop_forgotten_places();

  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  uint64_t next_seq_ = 0;
  std::unordered_map<std::string, Entry> by_id_;
  // Oldest first. A request kept again leaves its older place behind, skipped when reached.
  std::deque<std::pair<std::string, uint64_t>> order_;
};

}  // namespace vespid::dispatch
