// One subscription: the host's callback behind a libnats synchronous subscription whose
// messages the socket loop hands out (socket_loop.hpp). The ABI's teardown promise (after
// unsubscribe returns the callback is not running and never runs again) is the loop's
// remove_subscription.
#pragma once

#include <nats/nats.h>
#include <vespid/bus.h>

namespace vespid::natsbus {

class Subscription {
 public:
  Subscription(vsp_bus_msg_fn fn, void* ctx) : fn_(fn), ctx_(ctx) {}

  // SocketLoop::Deliver; `closure` is the Subscription. It may be deleted by the host's
  // callback (an unsubscribe from inside it), so nothing of it is read after that call.
  static void deliver(void* closure, natsMsg* msg);

  natsSubscription* handle = nullptr;  // libnats's, set once after subscribing

 private:
  const vsp_bus_msg_fn fn_;
  void* const ctx_;
};

}  // namespace vespid::natsbus
