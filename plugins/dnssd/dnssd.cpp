#include "dnssd.hpp"

#include "avahi_compat.hpp"

namespace vespid::dnssd {

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
