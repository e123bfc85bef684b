// One DNSServiceRef driven on the host's loop: its socket (DNSServiceRefSockFD) is watched with
// the host's fd-watch service and DNSServiceProcessResult runs when it is readable, so every
// dns_sd callback runs on the loop thread, as the discovery ABI wants, with no thread of ours.
// (Avahi's compatibility library runs a thread per reference behind that socket; mDNSResponder's
// client library has none. Either way the callbacks come out of DNSServiceProcessResult.)
//
// Never reset a ServiceRef from inside one of its own callbacks: the watch whose callback is
// running would be destroyed under it. Callers defer that to a timer.
#pragma once

#include <dns_sd.h>

#include <functional>
#include <memory>
#include <vespid/plugin.hpp>

namespace vespid::dnssd {

class ServiceRef {
 public:
  ServiceRef() = default;
  ~ServiceRef() { reset(); }
  ServiceRef(const ServiceRef&) = delete;
  ServiceRef& operator=(const ServiceRef&) = delete;

  // Takes `ref` (fresh from a DNSService* call) and starts driving it. `on_dead` runs (on the
  // loop, inside the watch callback) when DNSServiceProcessResult fails: the connection to the
  // daemon is gone and the reference is of no further use. Throws vsp::Error if the host cannot
  // watch its socket (the reference is deallocated then).
  void attach(const vsp::Host& host, DNSServiceRef ref,
              std::function<void(DNSServiceErrorType)> on_dead);
  // Stops watching, then deallocates: a registration is withdrawn, a browse or query ends.
  void reset();

  explicit operator bool() const { return ref_ != nullptr; }

 private:
  DNSServiceRef ref_ = nullptr;
  std::unique_ptr<vsp::Watch> watch_;
};

}  // namespace vespid::dnssd
