// What a node host streamed for dispatches another instance waits for, kept by the instance the
// host is connected to. If the waiting instance dies, the one that adopts the dispatch feeds it
// all again (Dispatcher::adopt), so what the host sent while the dead instance's lease ran out,
// and what it had received but not yet stored, is not lost.
//
// Bounded: a dispatch's history is kept only while it is whole (from the host's first answer on,
// at most kMaxEventsPerDispatch events and kMaxBytesPerDispatch bytes), and at most
// kMaxBytesTotal across dispatches, the oldest forgotten first. A forgotten or cut history
// replays nothing; the turn then goes on from the adopter's first live event.
//
// Thread: the Sequencer.
#pragma once

#include <cstddef>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace vespid::cluster {

class RelayHistory {
 public:
  static constexpr std::size_t kMaxEventsPerDispatch = 4096;
  static constexpr std::size_t kMaxBytesPerDispatch = 4u << 20;
  static constexpr std::size_t kMaxBytesTotal = 32u << 20;
  static constexpr std::size_t kMaxDispatches = 16384;

  // The host acknowledged the execute: its events start from here.
  void received(const std::string& request_id);
  // One event, `bytes` its size on the wire.
  void event(const std::string& request_id, const nlohmann::json& event, std::size_t bytes);
  // The dispatch's result is stored: nobody will adopt it.
  void finished(const std::string& request_id);

  // Every event relayed for `request_id`, when that is the host's whole stream so far.
  std::optional<std::vector<nlohmann::json>> whole(const std::string& request_id) const;

  std::size_t bytes() const noexcept { return bytes_; }
  std::size_t dispatches() const noexcept { return kept_.size(); }

 private:
  struct Kept {
    std::vector<nlohmann::json> events;
    std::size_t bytes = 0;
    bool whole = true;  // false once cut, or when it did not start at the host's first answer
  };
  Kept& entry(const std::string& request_id, bool starts_whole);
  void forget_oldest_over_limits();

  std::unordered_map<std::string, Kept> kept_;
  std::deque<std::string> order_;  // request ids, oldest first (may name forgotten ones)
  std::size_t bytes_ = 0;
};

}  // namespace vespid::cluster
