#include "harness.hpp"

#include <stdlib.h>

#include <filesystem>

namespace vespid::bus_test {

TestServices::TestServices() {
  char tmpl[] = "/tmp/vespid-bus-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
}

TestServices::~TestServices() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void TestServices::instance_failed(core::PluginInstance&, int, const std::string& message) {
  std::lock_guard lock(mu_);
  failures_.push_back(message);
}

std::vector<std::string> TestServices::failures() {
  std::lock_guard lock(mu_);
  return failures_;
}

core::ModuleCatalog& BusHarness::catalog() {
  static core::ModuleCatalog* catalog = [] {
    auto* c = new core::ModuleCatalog();
    c->scan({VESPID_PLUGIN_DIR});
    return c;
  }();
  return *catalog;
}

BusHarness::BusHarness(const std::string& plugin_id, const std::string& config_json,
                       const std::string& instance_name)
    : services_(std::make_unique<TestServices>()) {
  auto found = catalog().find(plugin_id);
  if (found.plugin->kind != VSP_KIND_BUS) {
    throw std::runtime_error("plugin \"" + plugin_id + "\" is a " +
                             core::kind_name(found.plugin->kind) + ", not a bus");
  }
  config::PluginInstance cfg{instance_name, plugin_id, nlohmann::json::parse(config_json), true};
  instance_ = std::make_unique<core::PluginInstance>(*services_, cfg, found);
  bus_ = std::make_unique<host::PluginBus>(*instance_);
}

BusHarness::~BusHarness() {
  bus_.reset();  // stops if still running
}

}  // namespace vespid::bus_test
