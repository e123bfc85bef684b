// Everything one test needs to drive one backend: a fresh temporary directory (which is also
// the host's state_dir), the loaded plugin, a test host and one plugin instance.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "backend.hpp"
#include "plugin_loader.hpp"
#include "store_client.hpp"
#include "test_host.hpp"

namespace vespid::storage_test {

class StoreHarness {
 public:
  // Makes the directory and loads the module. Throws std::runtime_error on failure.
  explicit StoreHarness(StorageBackend backend);
  // Closes the store and removes the directory.
  ~StoreHarness();
  StoreHarness(const StoreHarness&) = delete;
  StoreHarness& operator=(const StoreHarness&) = delete;

  const StorageBackend& backend() const noexcept { return backend_; }
  const StoragePlugin& plugin() const noexcept { return *plugin_; }
  const std::filesystem::path& dir() const noexcept { return dir_; }
  // backend.make_config(dir()), made once.
  const std::string& config() const noexcept { return config_; }
  TestHost& host() noexcept { return *host_; }
  StoreClient& store() noexcept { return *store_; }

  // create + start a fresh instance with `config` (default: config()). On failure returns the
  // status with the message in *message, and leaves no instance behind.
  int open(std::string* message = nullptr);
  int open_with(std::string_view config, std::string* message = nullptr);
  // stop + destroy; the store's files stay. False if the plugin never called done.
  bool close();

 private:
  StorageBackend backend_;
  const StoragePlugin* plugin_ = nullptr;
  std::filesystem::path dir_;
  std::string config_;
  std::unique_ptr<TestHost> host_;
  std::unique_ptr<StoreClient> store_;
};

// A new empty directory under testing::TempDir() (or $TMPDIR).
std::filesystem::path make_temp_dir(const std::string& prefix);

}  // namespace vespid::storage_test
