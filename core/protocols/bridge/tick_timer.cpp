#include "protocols/bridge/tick_timer.hpp"

#include "protocols/bridge/authenticated_nodes.hpp"
#include "protocols/bridge/event_frame.hpp"
#include "runtime/time.hpp"

namespace vespid::core {

void TickTimer::node_joined() {
  if (!armed_) arm();
}

void TickTimer::arm() {
  armed_ = true;
  deadlines_.after(interval_, [this] { fire(); });
}

void TickTimer::fire() {
  armed_ = false;
  if (nodes_.empty()) return;  // the next node to authenticate starts it again
  nodes_.send_to_all(event_frame("tick", {{"ts", util::now_ms()}}));  // ms since the epoch
  arm();
}

}  // namespace vespid::core
