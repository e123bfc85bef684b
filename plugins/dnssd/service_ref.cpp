#include "service_ref.hpp"

namespace vespid::dnssd {

void ServiceRef::attach(const vsp::Host& host, DNSServiceRef ref,
                        std::function<void(DNSServiceErrorType)> on_dead) {
  reset();
  ref_ = ref;
  const int fd = DNSServiceRefSockFD(ref);
  if (fd < 0) {
    reset();
    throw vsp::Error(VSP_E_IO, "dns_sd gave no socket for a service reference");
  }
  try {
    watch_ = std::make_unique<vsp::Watch>(
        host, fd, VSP_WATCH_READ, [this, on_dead = std::move(on_dead)](uint32_t) {
          // Readable: a reply is there, so this does not block. An error (or a hang-up, which
          // reads as one) means the daemon connection is gone; stop watching until the owner
          // resets us, or the level-triggered watch would spin on the dead socket.
          const DNSServiceErrorType err = DNSServiceProcessResult(ref_);
          if (err != kDNSServiceErr_NoError) {
            watch_->update(0);
            on_dead(err);
          }
        });
  } catch (...) {
    reset();
    throw;
  }
}

void ServiceRef::reset() {
  watch_.reset();  // before the socket closes (dns_sd.h: remove it from the run loop first)
  if (ref_ != nullptr) {
    DNSServiceRefDeallocate(ref_);
    ref_ = nullptr;
  }
}

}  // namespace vespid::dnssd
