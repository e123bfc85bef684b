// The netbind and discovery plugin instances and the two core services built on them: bind
// watches for listeners (host/netbind/bind_service.hpp) and publication of listeners
// (host/discovery/publisher.hpp). Kept out of gateway.cpp so that file only says when they start
// and stop: after storage and before the transports (which bind through them), stopped after the
// transports are gone.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "host/discovery/publisher.hpp"
#include "host/netbind/bind_service.hpp"

namespace vespid::core {

class Loop;
class PluginInstance;

class NetInstances {
 public:
  NetInstances(Loop& loop, const config::GatewayConfig& cfg,
               std::function<std::string(PluginInstance&)> fingerprint);
  ~NetInstances();

  // Creates and starts every netbind, then every discovery instance, in configuration order.
  // Throws StartupError when a required one fails; an optional one is skipped with a warning.
  void start(const std::vector<std::unique_ptr<PluginInstance>>& instances);
  // Withdraws what is published, then stops and destroys the instances it started. Idempotent.
  void stop();

  BindService& binds() { return binds_; }
  DiscoveryPublisher& publisher() { return publisher_; }

 private:
  bool start_one(PluginInstance& inst);
  void refresh_tailnet_dns();

  Loop& loop_;
  bool explicit_tailnet_dns_;
  BindService binds_;
  DiscoveryPublisher publisher_;
  std::vector<PluginInstance*> started_;  // in start order
};

}  // namespace vespid::core
