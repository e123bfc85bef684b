#include "subscription.hpp"

#include <cstring>

namespace vespid::natsbus {

void Subscription::on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* self = static_cast<Subscription*>(closure);
  {
    std::lock_guard lock(self->mu_);
    // A "no responders" status reaches only inboxes of requests; it is not a message.
    if (!self->active_ || natsMsg_IsNoResponders(msg)) {
      natsMsg_Destroy(msg);
      return;
    }
    self->running_ = std::this_thread::get_id();
  }
  const char* subject = natsMsg_GetSubject(msg);
  const char* reply = natsMsg_GetReply(msg);
  vsp_bus_msg m{sizeof(vsp_bus_msg),
                subject,
                std::strlen(subject),
                reply,
                reply ? std::strlen(reply) : 0,
                reinterpret_cast<const uint8_t*>(natsMsg_GetData(msg)),
                static_cast<size_t>(natsMsg_GetDataLength(msg))};
  self->fn_(self->ctx_, &m);
  natsMsg_Destroy(msg);
  std::lock_guard lock(self->mu_);
  self->running_ = std::thread::id();
  self->idle_.notify_all();
}

void Subscription::on_complete(void* closure) {
  delete static_cast<Subscription*>(closure);
}

void Subscription::deactivate() {
  std::unique_lock lock(mu_);
  active_ = false;
  // From inside fn_ itself the running call is the caller's own.
  const auto me = std::this_thread::get_id();
  idle_.wait(lock, [&] { return running_ == std::thread::id() || running_ == me; });
}

}  // namespace vespid::natsbus
