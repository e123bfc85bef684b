#include "subscription.hpp"

#include <cstring>

namespace vespid::natsbus {

void Subscription::deliver(void* closure, natsMsg* msg) {
  auto* self = static_cast<Subscription*>(closure);
  // A "no responders" status reaches only inboxes of requests; it is not a message.
  if (natsMsg_IsNoResponders(msg)) {
    natsMsg_Destroy(msg);
    return;
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
}

}  // namespace vespid::natsbus
