// A minimal host for driving a storage plugin without the gateway: logs go to stderr,
// state_dir is the test's temporary directory, config_get finds nothing. The services a storage
// backend has no business calling (it runs on the storage thread, and these are loop-thread or
// transport services) fail and are recorded, so a test can assert none was used.
#pragma once

#include <vespid/host.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace vespid::storage_test {

class TestHost {
 public:
  explicit TestHost(std::filesystem::path state_dir, std::string instance_name = "storage-test");
  TestHost(const TestHost&) = delete;
  TestHost& operator=(const TestHost&) = delete;

  const vsp_host_api* api() const noexcept;
  vsp_host_instance* instance() noexcept { return reinterpret_cast<vsp_host_instance*>(this); }

  // Host services that were called but that storage must not use, by name ("post", ...).
  std::vector<std::string> forbidden_calls() const;
  // Every line the plugin logged, as "LEVEL message".
  std::vector<std::string> log_lines() const;

  // The TestHost behind a handle this host gave out.
  static TestHost& from(vsp_host_instance* hi) noexcept { return *reinterpret_cast<TestHost*>(hi); }

  void record_forbidden(const char* service);
  void record_log(int level, const char* msg, size_t len);
  const std::string& state_dir() const noexcept { return state_dir_; }
  const std::string& instance_name() const noexcept { return instance_name_; }

 private:
  std::string state_dir_;
  std::string instance_name_;
  mutable std::mutex mu_;  // log may be called from any thread
  std::vector<std::string> forbidden_;
  std::vector<std::string> logs_;
};

}  // namespace vespid::storage_test
