#include "dnssd.hpp"

#include <cstdlib>
#include <mutex>

namespace vespid::dnssd {

namespace {

// Avahi's compatibility library prints "*** WARNING *** The program 'vespid-gateway' uses the
// Apple Bonjour compatibility layer of Avahi" to stderr on first use unless AVAHI_COMPAT_NOWARN
// is set. The warning is meant for programs ported from macOS that do not know they run on
// Avahi; this plugin uses the layer on purpose (its README says so), and the line in the
// gateway's log would only look like a fault. An operator's own value is kept (no overwrite).
// It is set once, when the first instance is created, before any dns_sd call; the library reads
// it on that first call. mDNSResponder ignores it.
void quiet_avahi_compat_warning() {
  static std::once_flag once;
  std::call_once(once, [] { ::setenv("AVAHI_COMPAT_NOWARN", "1", 0); });
}

}  // namespace

std::unique_ptr<DnssdDiscovery> DnssdDiscovery::create(vsp::Host host,
                                                       std::string_view config_json) {
  PublisherConfig cfg = parse_publisher_config(config_json, "dnssd");
  quiet_avahi_compat_warning();
  return std::make_unique<DnssdDiscovery>(host, cfg);
}

DnssdDiscovery::DnssdDiscovery(vsp::Host host, PublisherConfig cfg) : publisher_(host, cfg) {}

void DnssdDiscovery::start() {
  publisher_.start();
}

void DnssdDiscovery::stop(std::function<void()> done) {
  publisher_.stop();
  done();
}

int DnssdDiscovery::publish(const vsp_service_record& record, uint64_t* handle) {
  publisher_.publish(record, handle);
  return VSP_OK;
}

void DnssdDiscovery::withdraw(uint64_t handle) {
  publisher_.withdraw(handle);
}

}  // namespace vespid::dnssd
