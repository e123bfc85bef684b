// Keeps discovery plugins publishing what the transports listen on.
//
// Transports announce their listeners (host->listener_update) whenever they bind or unbind;
// discovery instances may start before or after that. Every change marks the set dirty and one
// sync per loop turn composes the records (host/discovery/records.hpp) and tells each discovery
// instance only what changed: publish a new record, replace a changed one under the same
// handle, withdraw one that went away.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host/discovery/records.hpp"
#include "vespid/vespid.h"

namespace vespid::core {

class Loop;
class PluginInstance;

class DiscoveryPublisher {
 public:
  // `fingerprint` gives the SHA-256 of the certificate a TLS transport instance serves.
  DiscoveryPublisher(Loop& loop, discovery::Settings settings,
                     std::function<std::string(PluginInstance&)> fingerprint);
  ~DiscoveryPublisher();
  DiscoveryPublisher(const DiscoveryPublisher&) = delete;
  DiscoveryPublisher& operator=(const DiscoveryPublisher&) = delete;

  // A started discovery instance.
  void add_discovery(PluginInstance& instance);
  // host->listener_update.
  void listener_update(PluginInstance& from, const vsp_listener_info& info);
  // What each transport instance last said it listens on, by instance name (for `status`).
  const std::map<std::string, discovery::ListenerFacts>& listeners() const { return listeners_; }
  // Withdraws everything and forgets the discovery instances (before they stop).
  void withdraw_all();

  void set_tailnet_dns(const std::string& name);

 private:
  void schedule();
  void sync();

  struct Target {
    PluginInstance* instance;
    std::map<std::string, std::pair<uint64_t, discovery::Record>> published;  // by record key
  };

  Loop& loop_;
  discovery::Settings settings_;
  std::function<std::string(PluginInstance&)> fingerprint_;
  std::map<std::string, discovery::ListenerFacts> listeners_;  // by transport instance name
  std::vector<Target> targets_;
  bool sync_pending_ = false;
  std::shared_ptr<DiscoveryPublisher*> alive_;
};

}  // namespace vespid::core
