// What the host table's C functions forward to. The gateway implements it; tests may too.
#pragma once

#include <string>

#include "vespid/host.h"

namespace vespid::core {

class Loop;
class PluginInstance;
class BindService;
class DiscoveryPublisher;

class HostBackend {
 public:
  virtual ~HostBackend() = default;

  virtual Loop& loop() = 0;
  virtual const std::string& state_dir() const = 0;
  // JSON text of a public config key, or empty when absent/secret.
  virtual std::string config_text(const std::string& path) const = 0;
  virtual void instance_failed(PluginInstance& instance, int status,
                               const std::string& message) = 0;

  virtual int conn_open(PluginInstance& transport, const vsp_conn_info& info,
                        vsp_plugin_conn* plugin_conn, vsp_host_conn** out, vsp_error* err) = 0;
  virtual int conn_recv(vsp_host_conn* conn, const char* data, size_t len) = 0;
  virtual void conn_closed(vsp_host_conn* conn, int status, const char* reason) = 0;
  virtual void conn_writable(vsp_host_conn* conn) = 0;
  virtual void conn_protocol_error(vsp_host_conn* conn, int status, const char* message) = 0;

  // ABI 1.1 services (bind_watch, listener_update). A backend without them answers
  // VSP_E_UNSUPPORTED / ignores announcements.
  virtual BindService* bind_service() { return nullptr; }
  virtual DiscoveryPublisher* discovery_publisher() { return nullptr; }
};

// The host service table handed to every plugin. Static; valid for the life of the process.
const vsp_host_api* host_api();

}  // namespace vespid::core
