// The open sessions of one instance, for max_connections, for stop() (which must reach every
// session and learn when the last one is gone) and for destroy.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "session.hpp"

namespace vespid::ws {

class Registry {
 public:
  explicit Registry(std::size_t max_sessions) : max_(max_sessions) {}

  enum class Added { Ok, Full, Stopping };
  Added add(std::shared_ptr<Session> s);
  // The same connection changes hands (HTTP -> WebSocket) without counting twice. Returns true
  // when the instance is stopping, so the new session should stop too.
  bool replace(Session* old_session, std::shared_ptr<Session> s);
  void remove(Session* s);

  // A rest.v1 connection an HTTP session opens beyond its first, for pipelining: it counts
  // against max_connections with the sessions, so that an instance never holds more host
  // connections than max_connections (as when each session had one at most). Any thread.
  bool take_extra_slot();
  void return_extra_slots(std::size_t n);

  // Any thread. From now on add() refuses; `drained` runs once (on whichever thread removes
  // the last session, or here) after the listener is closed and no session is left.
  std::vector<std::shared_ptr<Session>> begin_stop(std::function<void()> drained);
  void listener_closed();
  std::vector<std::shared_ptr<Session>> snapshot();
  std::vector<std::shared_ptr<Session>> take_all();
  std::size_t size();

 private:
  std::function<void()> take_drained_locked();

  const std::size_t max_;
  std::mutex mu_;
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions_;
  std::size_t extra_slots_ = 0;  // sessions_.size() + extra_slots_ <= max_
  bool stopping_ = false;
  bool listener_open_ = true;
  std::function<void()> drained_;
};

}  // namespace vespid::ws
