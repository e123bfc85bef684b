// One configured plugin instance: its copied function table, the plugin's handle, and the
// host-side context (`vsp_host_instance`) the plugin passes back to every host service.
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"
#include "host/plugins/module_catalog.hpp"
#include "vespid/vespid.h"

namespace spdlog {
class logger;
}

namespace vespid::core {

class InstanceServices;

class PluginInstance {
 public:
  enum class State { Created, Started, Stopping, Stopped, Failed };

  PluginInstance(InstanceServices& services, const config::PluginInstance& cfg,
                 const ModuleCatalog::Found& found);

  // The opaque handle plugins see, and back.
  vsp_host_instance* handle() noexcept { return reinterpret_cast<vsp_host_instance*>(this); }
  static PluginInstance* from(vsp_host_instance* hi) noexcept {
    return reinterpret_cast<PluginInstance*>(hi);
  }

  const std::string& name() const noexcept { return name_; }
  const std::string& plugin_id() const noexcept { return plugin_id_; }
  const std::string& module_file() const noexcept { return module_file_; }
  uint32_t kind() const noexcept { return kind_; }
  bool required() const noexcept { return required_; }
  const std::string& config_json() const noexcept { return config_json_; }
  State state() const noexcept { return state_; }
  void set_state(State s) noexcept { state_ = s; }
  const char* state_name() const noexcept;

  InstanceServices& services() noexcept { return services_; }
  spdlog::logger& logger() noexcept { return *logger_; }

  // Copies of the plugin's tables, zero-extended to this host's size: hooks an older plugin
  // lacks are NULL.
  const vsp_lifecycle& life() const noexcept { return life_; }
  const vsp_transport_vtbl& transport() const noexcept { return transport_; }
  const vsp_storage_vtbl& storage() const noexcept { return storage_; }
  const vsp_netbind_vtbl& netbind() const noexcept { return netbind_; }
  const vsp_discovery_vtbl& discovery() const noexcept { return discovery_; }
  const vsp_bus_vtbl& bus() const noexcept { return bus_; }

  vsp_plugin_instance* plugin() const noexcept { return plugin_; }
  void set_plugin(vsp_plugin_instance* p) noexcept { plugin_ = p; }

 private:
  InstanceServices& services_;
  std::string name_, plugin_id_, module_file_, config_json_;
  uint32_t kind_;
  bool required_;
  State state_ = State::Created;
  std::shared_ptr<spdlog::logger> logger_;
  vsp_lifecycle life_{};
  vsp_transport_vtbl transport_{};
  vsp_storage_vtbl storage_{};
  vsp_netbind_vtbl netbind_{};
  vsp_discovery_vtbl discovery_{};
  vsp_bus_vtbl bus_{};
  vsp_plugin_instance* plugin_ = nullptr;
};

}  // namespace vespid::core
