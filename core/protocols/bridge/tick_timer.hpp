// The gateway's `tick {ts}` event to its bridge nodes, every bridge.tick_interval_ms (the
// reference's 30 s keepalive). One deadline for the whole gateway, not one per connection: every
// node hears the same tick at the same moment, as from the reference's single interval timer.
// The timer runs only while some node is authenticated, so an idle gateway does not wake for it.
//
// Thread: the Sequencer.
#pragma once

#include <chrono>

#include "runtime/deadlines.hpp"

namespace vespid::core {

class AuthenticatedNodes;

class TickTimer {
 public:
  TickTimer(Deadlines& deadlines, std::chrono::milliseconds interval, AuthenticatedNodes& nodes)
      : deadlines_(deadlines), interval_(interval), nodes_(nodes) {}

  // A node finished its handshake: start ticking if the timer was idle.
  void node_joined();

 private:
  void arm();
  void fire();

  Deadlines& deadlines_;
  std::chrono::milliseconds interval_;
  AuthenticatedNodes& nodes_;
  bool armed_ = false;
};

}  // namespace vespid::core
