// What a plugin instance's host table reaches that is not about one connection: the loop, the
// state directory, public config, failure reports, binding and discovery. The gateway
// implements it (tests may too). Connection services are a separate interface
// (connection_services.hpp), so a frame from a transport goes to the connection hub without
// passing through the gateway.
#pragma once

#include <string>

#include "vespid/host.h"

namespace vespid::core {

class Loop;
class PluginInstance;
class BindService;
class DiscoveryPublisher;
class ConnectionServices;

class InstanceServices {
 public:
  virtual ~InstanceServices() = default;

  virtual Loop& loop() = 0;
  virtual const std::string& state_dir() const = 0;
  // JSON text of a public config key, or empty when absent/secret.
  virtual std::string config_text(const std::string& path) const = 0;
  virtual void instance_failed(PluginInstance& instance, int status,
                               const std::string& message) = 0;

  // Where a transport's conn_open goes. Null: this host takes no connections (conn_open answers
  // VSP_E_UNSUPPORTED), as in tests of storage alone.
  virtual ConnectionServices* connections() { return nullptr; }
  // ABI 1.1 services (bind_watch, listener_update). A host without them answers
  // VSP_E_UNSUPPORTED / ignores announcements.
  virtual BindService* bind_service() { return nullptr; }
  virtual DiscoveryPublisher* discovery_publisher() { return nullptr; }
};

// The host service table handed to every plugin (host/host_table.cpp). Static; valid for the
// life of the process.
const vsp_host_api* host_api();

}  // namespace vespid::core
