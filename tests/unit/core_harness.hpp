// A piece of the core without the daemon around it: the loop, a host backend, and the real
// SQLite storage plugin of this build on a file in a temporary directory.
#pragma once

#include <stdlib.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <optional>

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

  std::vector<std::string> failures;

 private:
  Loop loop_;
  std::string dir_;
};

class StorageHarness {
 public:
  explicit StorageHarness(StorageService::Options options = {}) {
    char tmpl[] = "/tmp/vespid-unit-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    backend_ = std::make_unique<TestBackend>(dir_);
    catalog_.scan({VESPID_PLUGIN_DIR});
    config::PluginInstance cfg{"storage", "sqlite", nlohmann::json::object(), true};
    instance_ = std::make_unique<PluginInstance>(*backend_, cfg, catalog_.find("sqlite"));
    Loop& loop = backend_->loop();
    storage_ = std::make_unique<StorageService>(
        instance_->storage(),
        [&loop](std::function<void()> fn) {
          boost::asio::post(loop.io(), [&loop, fn = std::move(fn)]() mutable {
            loop.sequencer().execute(std::move(fn));
          });
        },
        options);
    storage_->open(host_api(), instance_->handle(), "{}");
  }
  ~StorageHarness() {
    storage_->close();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  StorageService& storage() { return *storage_; }
  Loop& loop() { return backend_->loop(); }

  // Runs a task to completion, driving the loop on this thread.
  template <class T>
  T run(Task<T> task) {
    return run_to_completion(loop(), std::move(task));
  }

 private:
  std::string dir_;
  std::unique_ptr<TestBackend> backend_;
  ModuleCatalog catalog_;
  std::unique_ptr<PluginInstance> instance_;
  std::unique_ptr<StorageService> storage_;
};

}  // namespace vespid::core::testing
