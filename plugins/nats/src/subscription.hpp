// One subscription: the host's callback behind libnats's message handler, keeping the ABI's
// teardown promise (after unsubscribe returns the callback is not running and never runs
// again). libnats may still hand a message to the handler after that, and it frees a
// subscription's state only once its last handler call returned, so this object lives until
// libnats's completion callback deletes it.
#pragma once

#include <nats/nats.h>
#include <vespid/bus.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace vespid::natsbus {

class Subscription {
 public:
  Subscription(vsp_bus_msg_fn fn, void* ctx) : fn_(fn), ctx_(ctx) {}

  // natsMsgHandler; `closure` is the Subscription.
  static void on_message(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* closure);
  // natsOnCompleteCB: libnats is done with it.
  static void on_complete(void* closure);

  // Stops calls to the host's callback: waits for one running on another thread.
  void deactivate();

  natsSubscription* handle = nullptr;  // libnats's, set once after subscribing

 private:
  const vsp_bus_msg_fn fn_;
  void* const ctx_;
  std::mutex mu_;
  std::condition_variable idle_;
  bool active_ = true;
  std::thread::id running_;  // the thread inside fn_, if any
};

}  // namespace vespid::natsbus
