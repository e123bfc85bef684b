#include "gateway/net_instances.hpp"

#include "gateway/exit_codes.hpp"
#include "gateway/state_dir_lock.hpp"
#include "host/plugins/instance_services.hpp"
#include "host/plugins/module_catalog.hpp"
#include "host/plugins/plugin_instance.hpp"
#include "protocols/bridge/bridge_dialect.hpp"
#include "runtime/logging.hpp"
#include "runtime/loop.hpp"

namespace vespid::core {

namespace {

std::shared_ptr<spdlog::logger> L() {
  return log::get("core");
}

vsp_error fresh_error() {
  vsp_error e{};
  e.struct_size = sizeof e;
  return e;
}

}  // namespace

NetInstances::NetInstances(Loop& loop, const config::GatewayConfig& cfg,
                           std::function<std::string(PluginInstance&)> fingerprint)
    : loop_(loop),
      explicit_tailnet_dns_(!cfg.string("discovery.tailnet_dns").empty()),
      binds_(loop),
      publisher_(loop, discovery::settings_from(cfg, BridgeDialect::kProtocolVersion),
                 std::move(fingerprint)) {
  binds_.set_on_refresh([this] { refresh_tailnet_dns(); });
}

NetInstances::~NetInstances() {
  stop();
}

bool NetInstances::start_one(PluginInstance& inst) {
  vsp_error err = fresh_error();
  vsp_plugin_instance* p = nullptr;
  int rc = inst.life().create(host_api(), inst.handle(), inst.config_json().data(),
                              inst.config_json().size(), &p, &err);
  if (rc == VSP_OK) {
    inst.set_plugin(p);
    err = fresh_error();
    rc = inst.life().start(p, &err);
    if (rc != VSP_OK) {
      inst.life().destroy(p);
      inst.set_plugin(nullptr);
    }
  }
  if (rc != VSP_OK) {
    inst.set_state(PluginInstance::State::Failed);
    std::string msg = "plugin instance \"" + inst.name() + "\" (" + inst.plugin_id() +
                      ") failed to start: " + err.message;
    if (!inst.required()) {
      L()->warn("{} (optional; continuing)", msg);
      return false;
    }
    throw StartupError(exit_code::kPlugin, msg);
  }
  inst.set_state(PluginInstance::State::Started);
  started_.push_back(&inst);
  L()->info("started {} instance \"{}\" ({})", kind_name(inst.kind()), inst.name(),
            inst.plugin_id());
  return true;
}

void NetInstances::start(const std::vector<std::unique_ptr<PluginInstance>>& instances) {
  for (const auto& inst : instances) {
    if (inst->kind() == VSP_KIND_NETBIND && start_one(*inst)) binds_.add_netbind(*inst);
  }
  for (const auto& inst : instances) {
    if (inst->kind() == VSP_KIND_DISCOVERY && start_one(*inst)) publisher_.add_discovery(*inst);
  }
  refresh_tailnet_dns();
}

void NetInstances::refresh_tailnet_dns() {
  if (explicit_tailnet_dns_) return;  // the operator's discovery.tailnet_dns wins
  std::string error;
  int status = VSP_OK;
  auto names = binds_.resolve("tailnet-dns", error, status);
  publisher_.set_tailnet_dns(names && !names->empty() ? names->front() : "");
}

void NetInstances::stop() {
  publisher_.withdraw_all();
  binds_.detach_netbinds();
  // Discovery first (it was started last), then netbind.
  for (auto it = started_.rbegin(); it != started_.rend(); ++it) {
    PluginInstance& inst = **it;
    if (inst.plugin() == nullptr) continue;
    inst.set_state(PluginInstance::State::Stopping);
    bool done = false;
    inst.life().stop(
        inst.plugin(), [](void* p) { *static_cast<bool*>(p) = true; }, &done);
    if (!done) {
      // These kinds have nothing to drain; one that does not finish at once keeps its memory
      // rather than risk a use-after-free.
      L()->warn("plugin instance \"{}\" did not stop at once; not destroying it", inst.name());
      continue;
    }
    inst.life().destroy(inst.plugin());
    inst.set_plugin(nullptr);
    inst.set_state(PluginInstance::State::Stopped);
  }
  started_.clear();
}

}  // namespace vespid::core
