// The dnssd discovery instance: the plugin's table functions, handed to the publisher. It does
// not browse (the SDK answers VSP_E_UNSUPPORTED, as for bonjour). Loop thread only, like every
// discovery call.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vespid/plugin.hpp>

#include "publisher.hpp"

namespace vespid::dnssd {

class DnssdDiscovery {
 public:
  static std::unique_ptr<DnssdDiscovery> create(vsp::Host host, std::string_view config_json);
  DnssdDiscovery(vsp::Host host, PublisherConfig cfg);

  void start();
  void stop(std::function<void()> done);
  int publish(const vsp_service_record& record, uint64_t* handle);
  void withdraw(uint64_t handle);

 private:
  Publisher publisher_;
};

}  // namespace vespid::dnssd
