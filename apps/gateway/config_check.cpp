#include "config_check.hpp"

#include <iostream>

#include "gateway/config_probe.hpp"
#include "gateway/exit_codes.hpp"

namespace vespid::app {

namespace {

std::string count(size_t n, const char* one) {
  return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
}

}  // namespace

int config_check(const config::GatewayConfig& cfg, const std::vector<std::string>& plugin_dirs,
                 bool strict) {
  std::vector<std::string> errors = cfg.errors;
  std::vector<std::string> warnings = cfg.warnings;
  const core::ProbeReport probe = core::probe_configuration(cfg, plugin_dirs);
  errors.insert(errors.end(), probe.errors.begin(), probe.errors.end());
  warnings.insert(warnings.end(), probe.warnings.begin(), probe.warnings.end());

  for (const auto& e : errors) std::cerr << "vespid-gateway: " << e << "\n";
  for (const auto& w : warnings) std::cerr << "vespid-gateway: warning: " << w << "\n";
  const bool failed = !errors.empty() || (strict && !warnings.empty());
  if (failed) {
    std::cerr << "config check failed: " << count(errors.size(), "error") << ", "
              << count(warnings.size(), "warning") << (strict ? " (--strict)" : "") << " in "
              << cfg.source << "\n";
    return exit_code::kConfig;
  }
  std::cout << "config OK: " << cfg.source << " (state dir " << cfg.state_dir << ", "
            << cfg.instances.size() << " plugin instance(s)"
            << (warnings.empty() ? "" : ", " + count(warnings.size(), "warning")) << ")\n";
  return exit_code::kOk;
}

}  // namespace vespid::app
