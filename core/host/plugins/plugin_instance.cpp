#include "host/plugins/plugin_instance.hpp"

#include <algorithm>
#include <cstring>

#include "runtime/logging.hpp"

namespace vespid::core {

namespace {
template <class Table>
Table copy_table(const PluginEntry& p) {
  Table t{};
  std::memcpy(&t, p.vtbl, std::min<size_t>(p.vtbl_size, sizeof(Table)));
  t.struct_size = sizeof(Table);
  return t;
}
}  // namespace

PluginInstance::PluginInstance(InstanceServices& services, const config::PluginInstance& cfg,
                               const ModuleCatalog::Found& found)
    : services_(services),
      name_(cfg.name),
      plugin_id_(found.plugin->id),
      module_file_(found.module->file),
      config_json_(cfg.config.dump()),
      kind_(found.plugin->kind),
      required_(cfg.required),
      logger_(log::get("plugin." + cfg.name)) {
  switch (kind_) {
    case VSP_KIND_TRANSPORT:
      transport_ = copy_table<vsp_transport_vtbl>(*found.plugin);
      life_ = transport_.life;
      break;
    case VSP_KIND_STORAGE:
      storage_ = copy_table<vsp_storage_vtbl>(*found.plugin);
      life_ = storage_.life;
      break;
    case VSP_KIND_NETBIND:
      netbind_ = copy_table<vsp_netbind_vtbl>(*found.plugin);
      life_ = netbind_.life;
      break;
    case VSP_KIND_DISCOVERY:
      discovery_ = copy_table<vsp_discovery_vtbl>(*found.plugin);
      life_ = discovery_.life;
      break;
    case VSP_KIND_BUS:
      bus_ = copy_table<vsp_bus_vtbl>(*found.plugin);
      life_ = bus_.life;
      break;
  }
}

const char* PluginInstance::state_name() const noexcept {
  switch (state_) {
    case State::Created:
      return "created";
    case State::Started:
      return "running";
    case State::Stopping:
      return "stopping";
    case State::Stopped:
      return "stopped";
    case State::Failed:
      return "failed";
  }
  return "?";
}

}  // namespace vespid::core
