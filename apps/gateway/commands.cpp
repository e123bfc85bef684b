#include "commands.hpp"

#include <cstdio>
#include <iostream>

#include "gateway/exit_codes.hpp"
#include "gateway/state_dir_lock.hpp"
#include "host/plugins/module_catalog.hpp"
#include "host/tls/tls_material.hpp"

namespace vespid::app {

using nlohmann::json;

int list_plugins(const std::vector<std::string>& dirs, bool as_json) {
  core::ModuleCatalog catalog;
  catalog.scan(dirs);
  if (as_json) {
    json mods = json::array();
    for (const auto& m : catalog.modules()) {
      json plugins = json::array();
      for (const auto& p : m.plugins) {
        plugins.push_back(
            {{"id", p.id}, {"kind", core::kind_name(p.kind)}, {"description", p.description}});
      }
      mods.push_back({{"file", m.file},
                      {"name", m.name},
                      {"version", m.version},
                      {"abi", std::to_string(m.abi_major) + "." + std::to_string(m.abi_minor)},
                      {"loadable", m.loadable},
                      {"error", m.loadable ? json(nullptr) : json(m.error)},
                      {"plugins", plugins}});
    }
    std::cout << json{{"dirs", dirs}, {"modules", mods}}.dump(2) << "\n";
    return 0;
  }
  std::cout << "Plugin directories:\n";
  for (const auto& d : dirs) std::cout << "  " << d << "\n";
  if (catalog.modules().empty()) {
    std::cout << "\nNo plugin modules found.\n";
    return 0;
  }
  for (const auto& m : catalog.modules()) {
    std::cout << "\n" << m.file << "\n";
    if (!m.loadable) {
      std::cout << "  REFUSED: " << m.error << "\n";
      continue;
    }
    std::cout << "  module " << m.name << " " << m.version << ", ABI " << m.abi_major << "."
              << m.abi_minor << ", loadable\n";
    for (const auto& p : m.plugins) {
      std::printf("  %-12s %-10s %s\n", p.id.c_str(), core::kind_name(p.kind),
                  p.description.c_str());
    }
  }
  return 0;
}

int config_show(const config::GatewayConfig& cfg) {
  std::cout << config::masked(cfg).dump(2) << "\n";
  return 0;
}

int tls_fingerprint(const config::GatewayConfig& cfg, bool as_json) {
  std::string cert = cfg.string("tls.cert_file");
  std::string key = cfg.string("tls.key_file");
  if (cert.empty()) cert = tls::default_cert_path(cfg.state_dir);
  if (key.empty()) key = tls::default_key_path(cfg.state_dir);
  try {
    core::prepare_state_dir(cfg.state_dir);
    tls::Material m = tls::ensure(cert, key, cfg.boolean("tls.generate"));
    std::string fp = tls::fingerprint_sha256(cert);
    if (as_json) {
      std::cout << json{{"certFile", cert}, {"sha256", fp}, {"generated", m.generated}}.dump(2)
                << "\n";
    } else {
      if (m.generated) std::cerr << "generated a self-signed certificate at " << cert << "\n";
      std::cout << fp << "\n";
    }
    return 0;
  } catch (const core::StartupError& e) {
    std::cerr << "vespid-gateway: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "vespid-gateway: " << e.what() << "\n";
    return exit_code::kConfig;
  }
}

}  // namespace vespid::app
