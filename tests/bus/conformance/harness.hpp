// One bus plugin instance loaded the way the gateway loads it: this build's plugin directory
// scanned by the host's ModuleCatalog, a PluginInstance with the host table, and the core's
// facade over it (host::PluginBus), which is what the suite drives.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "host/bus/plugin_bus.hpp"
#include "host/plugins/instance_services.hpp"
#include "host/plugins/module_catalog.hpp"
#include "host/plugins/plugin_instance.hpp"
#include "runtime/loop.hpp"

namespace vespid::bus_test {

// The host services a bus instance reaches: a loop that nobody runs (a bus must not need it
// outside its lifecycle), a temporary state directory, and failure reports recorded.
class TestServices final : public core::InstanceServices {
 public:
  TestServices();
  ~TestServices() override;
  core::Loop& loop() override { return loop_; }
  const std::string& state_dir() const override { return dir_; }
  std::string config_text(const std::string&) const override { return {}; }
  void instance_failed(core::PluginInstance&, int, const std::string& message) override;
  std::vector<std::string> failures();

 private:
  core::Loop loop_;
  std::string dir_;
  std::mutex mu_;
  std::vector<std::string> failures_;
};

class BusHarness {
 public:
  // Finds `plugin_id` in this build's plugin directory. Throws std::runtime_error if it is not
  // there or not loadable.
  BusHarness(const std::string& plugin_id, const std::string& config_json,
             const std::string& instance_name = "bus");
  ~BusHarness();
  BusHarness(const BusHarness&) = delete;
  BusHarness& operator=(const BusHarness&) = delete;

  // create + set_state_callback + start; throws std::runtime_error with the plugin's message.
  void start() { bus_->start(); }
  // stop (waiting for done) + destroy.
  void stop() { bus_->stop(std::chrono::seconds(10)); }

  host::PluginBus& bus() { return *bus_; }
  core::PluginInstance& instance() { return *instance_; }
  TestServices& services() { return *services_; }

  // The host's catalog of this build's plugins, scanned once per process and never unloaded
  // (as in the gateway: a plugin's library may keep global state and threads).
  static core::ModuleCatalog& catalog();

 private:
  std::unique_ptr<TestServices> services_;
  std::unique_ptr<core::PluginInstance> instance_;
  std::unique_ptr<host::PluginBus> bus_;
};

}  // namespace vespid::bus_test
