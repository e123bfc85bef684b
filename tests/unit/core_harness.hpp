// A piece of the core without the daemon around it: the loop, a host backend, and the real
// SQLite storage plugin of this build on a file in a temporary directory.
#pragma once

#include <stdlib.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "host/plugins/instance_services.hpp"
#include "host/plugins/module_catalog.hpp"
#include "host/plugins/plugin_instance.hpp"
#include "runtime/loop.hpp"
#include "runtime/run_to_completion.hpp"
#include "runtime/task.hpp"
#include "storage/storage_service.hpp"

namespace vespid::core::testing {

class TestBackend final : public InstanceServices {
 public:
  explicit TestBackend(std::string dir) : dir_(std::move(dir)) {}
  Loop& loop() override { return loop_; }
  const std::string& state_dir() const override { return dir_; }
  std::string config_text(const std::string&) const override { return {}; }
  void instance_failed(PluginInstance&, int, const std::string& m) override {
    failures.push_back(m);
  }
  ConnectionServices* connections() override { return connections_; }
  // Where the host table's connection calls (and io_thread_begin) land; none by default.
  void use_connections(ConnectionServices* hub) { connections_ = hub; }

  std::vector<std::string> failures;

 private:
  ConnectionServices* connections_ = nullptr;
  Loop loop_;
  std::string dir_;
};

class StorageHarness {
 public:
  // Stands between the storage service and the plugin's table (a test's own commit, say).
  using Interpose = std::function<vsp_storage_vtbl(const vsp_storage_vtbl&)>;

  // Opens the sqlite plugin on a fresh directory with `plugin_config` (its instance config, e.g.
  // {"max_size_mb": 1}). Throws what StorageService::open throws; the directory goes either way.
  explicit StorageHarness(StorageService::Options options = {}, std::string plugin_config = "{}",
                          Interpose interpose = {})
      : options_(options),
        plugin_config_(std::move(plugin_config)),
        interpose_(std::move(interpose)) {
    backend_ = std::make_unique<TestBackend>(dir_.path);
    catalog_.scan({VESPID_PLUGIN_DIR});
    config::PluginInstance cfg{"storage", "sqlite", nlohmann::json::object(), true};
    instance_ = std::make_unique<PluginInstance>(*backend_, cfg, catalog_.find("sqlite"));
    open_service();
  }
  ~StorageHarness() { storage_->close(); }

  StorageService& storage() { return *storage_; }
  Loop& loop() { return backend_->loop(); }

  // Closes the service and opens a new one on the same files, as a gateway restart does.
  void reopen() {
    storage_->close();
    open_service();
  }

  // Runs a task to completion, driving the loop on this thread.
  template <class T>
  T run(Task<T> task) {
    return run_to_completion(loop(), std::move(task));
  }

 private:
  struct Dir {
    Dir() {
      char tmpl[] = "/tmp/vespid-unit-XXXXXX";
      path = ::mkdtemp(tmpl);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
    std::string path;
  };

  void open_service() {
    Loop& loop = backend_->loop();
    vsp_storage_vtbl vtbl = instance_->storage();
    if (interpose_) vtbl = interpose_(vtbl);
    storage_ = std::make_unique<StorageService>(
        vtbl,
        [&loop](std::function<void()> fn) {
          boost::asio::post(loop.io(), [&loop, fn = std::move(fn)]() mutable {
            loop.sequencer().execute(std::move(fn));
          });
        },
        options_);
    storage_->open(host_api(), instance_->handle(), plugin_config_);
  }

  Dir dir_;  // first: removed last, also when the constructor throws
  StorageService::Options options_;
  std::string plugin_config_;
  Interpose interpose_;
  std::unique_ptr<TestBackend> backend_;
  ModuleCatalog catalog_;
  std::unique_ptr<PluginInstance> instance_;
  std::unique_ptr<StorageService> storage_;
};

}  // namespace vespid::core::testing
