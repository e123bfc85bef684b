#include "gateway/config_probe.hpp"

#include <boost/asio/ip/address.hpp>
#include <memory>
#include <set>
#include <sstream>

#include "cluster/cluster_wire.hpp"
#include "config/did_you_mean.hpp"
#include "gateway/internal_exposure.hpp"
#include "gateway/web_signin.hpp"
#include "host/plugins/instance_services.hpp"
#include "host/plugins/module_catalog.hpp"
#include "host/plugins/plugin_instance.hpp"
#include "runtime/loop.hpp"

namespace vespid::core {

namespace {

constexpr std::string_view kUnknownKey = "unknown config key \"";
constexpr std::string_view kKnownKeys = "(known keys: ";

// The host side a plugin sees while its config is checked: a loop that never runs (create may
// make timers, nothing fires), the state directory, the public config. Nothing is served.
class ProbeServices final : public InstanceServices {
 public:
  explicit ProbeServices(const config::GatewayConfig& cfg) : cfg_(cfg) {}
  Loop& loop() override { return loop_; }
  const std::string& state_dir() const override { return cfg_.state_dir; }
  std::string config_text(const std::string& path) const override {
    const nlohmann::json* v = config::lookup_public(cfg_, path);
    return v ? v->dump() : std::string();
  }
  void instance_failed(PluginInstance&, int, const std::string&) override {}

 private:
  const config::GatewayConfig& cfg_;
  Loop loop_;
};

std::string at(const config::PluginInstance& ic) {
  return "plugins.instances[" + std::to_string(ic.position) + "] (\"" + ic.name + "\")";
}

std::vector<std::string> plugin_ids(const ModuleCatalog& catalog) {
  std::set<std::string> ids;
  for (const auto& m : catalog.modules()) {
    for (const auto& p : m.plugins) ids.insert(p.id);
  }
  return {ids.begin(), ids.end()};
}

// create() with the instance's config, then destroy() without start(). "" when it is accepted.
std::string plugin_refusal(PluginInstance& inst) {
  vsp_error err{};
  err.struct_size = sizeof err;
  vsp_plugin_instance* p = nullptr;
  const int rc = inst.life().create(host_api(), inst.handle(), inst.config_json().data(),
                                    inst.config_json().size(), &p, &err);
  if (rc == VSP_OK) {
    if (p != nullptr) inst.life().destroy(p);
    return "";
  }
  std::string message =
      err.message[0] ? err.message : "create failed (status " + std::to_string(rc) + ")";
  return message;
}

class Prober {
 public:
  Prober(const config::GatewayConfig& cfg, const std::vector<std::string>& dirs)
      : cfg_(cfg), services_(cfg) {
    catalog_.scan(dirs);
  }

  ProbeReport run() {
    for (size_t i = 0; i < cfg_.instances.size(); ++i) probe_instance(i, cfg_.instances[i]);
    check_kinds();
    check_bind_specs();
    check_cluster();
    for (auto& e : web_signin_config_errors(cfg_)) report_.errors.push_back(std::move(e));
    for (const auto& w : internal_route_exposures(cfg_)) report_.warnings.push_back(w);
    return std::move(report_);
  }

 private:
  void problem(const config::PluginInstance& ic, const std::string& text) {
    if (ic.required) {
      report_.errors.push_back("config error: " + text);
    } else {
      report_.warnings.push_back(text + " (optional instance; `run` skips it)");
    }
  }

  void probe_instance(size_t index, const config::PluginInstance& ic) {
    std::unique_ptr<PluginInstance> inst;
    try {
      inst = std::make_unique<PluginInstance>(services_, ic, catalog_.find(ic.plugin));
    } catch (const std::exception& e) {
      problem(ic, at(ic) + ".plugin: " + with_plugin_suggestion(catalog_, ic.plugin, e.what()));
      return;
    }
    const std::string refusal = plugin_refusal(*inst);
    if (!refusal.empty()) {
      problem(ic, at(ic) + ".config (plugin " + inst->plugin_id() +
                      "): " + with_key_suggestion(refusal));
      return;
    }
    kinds_.push_back({index, inst->kind()});
  }

  // `run` takes exactly one storage instance and at most one bus.
  void check_kinds() {
    std::vector<size_t> storage, bus;
    for (const auto& [index, kind] : kinds_) {
      if (kind == VSP_KIND_STORAGE) storage.push_back(index);
      if (kind == VSP_KIND_BUS) bus.push_back(index);
    }
    // An instance the loader or the catalog refused may be the storage: "no storage" would
    // then send the reader after the wrong problem.
    bool storage_unknown = kinds_.size() < cfg_.instances.size();
    for (const auto& e : cfg_.errors) {
      storage_unknown = storage_unknown || e.rfind("config error: plugins.instances", 0) == 0;
    }
    if (storage.empty() && !storage_unknown) {
      report_.errors.push_back(
          "config error: plugins.instances: no storage plugin instance; add one, e.g. "
          "{\"name\": \"storage\", \"plugin\": \"sqlite\"}");
    }
    for (size_t i = 1; i < storage.size(); ++i) {
      report_.errors.push_back("config error: " + at(cfg_.instances[storage[i]]) +
                               ": a second storage instance; the gateway uses exactly one, and " +
                               at(cfg_.instances[storage[0]]) + " is already one");
    }
    for (size_t i = 1; i < bus.size(); ++i) {
      report_.errors.push_back("config error: " + at(cfg_.instances[bus[i]]) +
                               ": a second bus instance; a gateway has exactly one bus, and " +
                               at(cfg_.instances[bus[0]]) + " is already one");
    }
  }

  // A bind spec the core does not resolve itself (tailnet, auto) needs a netbind instance;
  // `run` finds out only when the listener starts, after storage and the bus.
  void check_bind_specs() {
    for (const auto& [index, kind] : kinds_) {
      if (kind == VSP_KIND_NETBIND) return;
    }
    for (const auto& [index, kind] : kinds_) {
      const auto& ic = cfg_.instances[index];
      auto bind = ic.config.find("bind");
      if (kind != VSP_KIND_TRANSPORT || bind == ic.config.end() || !bind->is_string()) continue;
      const std::string spec = bind->get<std::string>();
      boost::system::error_code ec;
      boost::asio::ip::make_address(spec, ec);
      if (spec == "loopback" || spec == "lan" || !ec) continue;
      problem(ic, at(ic) + ".config.bind: bind \"" + spec +
                      "\" needs a netbind plugin instance; add {\"name\": \"tailnet\", "
                      "\"plugin\": \"tailnet\"} to plugins.instances (see docs/tailnet.md)");
    }
  }

  // The same rules Gateway::build_semantics applies at start.
  void check_cluster() {
    if (cfg_.integer("cluster.lease_ms") < 2 * cfg_.integer("cluster.heartbeat_ms")) {
      report_.errors.push_back(
          "config error: cluster.lease_ms: must be at least twice cluster.heartbeat_ms, or one "
          "late heartbeat would declare a live instance dead");
    }
    if (!cluster::is_subject_token(cfg_.string("cluster.subject_prefix"))) {
      report_.errors.push_back(
          "config error: cluster.subject_prefix: must be one bus subject token (letters, "
          "digits, '-', '_')");
    }
  }

  const config::GatewayConfig& cfg_;
  ProbeServices services_;
  ModuleCatalog catalog_;
  std::vector<std::pair<size_t, uint32_t>> kinds_;  // (instance index, kind) of the accepted
  ProbeReport report_;
};

}  // namespace

std::string plugin_key_suggestion(const std::string& message) {
  const size_t key_at = message.find(kUnknownKey);
  if (key_at == std::string::npos) return "";
  const size_t key_start = key_at + kUnknownKey.size();
  const size_t key_end = message.find('"', key_start);
  const size_t list_at = message.find(kKnownKeys, key_end);
  if (key_end == std::string::npos || list_at == std::string::npos) return "";
  std::string key = message.substr(key_start, key_end - key_start);
  key = key.substr(key.rfind('.') + 1);  // "routes[0].pth": the route's key
  const size_t list_start = list_at + kKnownKeys.size();
  std::stringstream list(message.substr(list_start, message.find(')', list_start) - list_start));
  std::vector<std::string> known;
  for (std::string k; std::getline(list, k, ',');) {
    const size_t first = k.find_first_not_of(' ');
    if (first != std::string::npos) known.push_back(k.substr(first));
  }
  return config::did_you_mean(key, known);
}

std::string with_key_suggestion(const std::string& message) {
  const std::string hint = plugin_key_suggestion(message);
  if (hint.empty()) return message;
  const size_t key_start = message.find(kUnknownKey) + kUnknownKey.size();
  const size_t key_end = message.find('"', key_start);
  return message.substr(0, key_end + 1) + hint + message.substr(key_end + 1);
}

std::string with_plugin_suggestion(const ModuleCatalog& catalog, const std::string& ref,
                                   std::string message) {
  const std::string not_found = "no plugin \"" + ref + "\"";
  if (message.rfind(not_found, 0) == 0) {
    const std::string id = ref.substr(ref.find('/') + 1);
    message.insert(not_found.size(), config::did_you_mean(id, plugin_ids(catalog)));
  }
  return message;
}

ProbeReport probe_configuration(const config::GatewayConfig& cfg,
                                const std::vector<std::string>& plugin_dirs) {
  return Prober(cfg, plugin_dirs).run();
}

}  // namespace vespid::core
