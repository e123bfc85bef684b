// What the conformance suite needs to know about a storage backend. A backend's test executable
// builds one of these and instantiates the suite with it (see ../README.md).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>

namespace vespid::storage_test {

struct StorageBackend {
  // Used in test names: letters, digits and '_' only.
  std::string name;
  // The module file to dlopen, e.g. .../lib/vespid/plugins/vespid-sqlite.so.
  std::string module_path;
  // The id of the storage plugin inside that module, e.g. "sqlite".
  std::string plugin_id;
  // Returns the config JSON for a fresh, empty store that keeps its files (if any) in `dir`, an
  // empty directory made for this test, which is also the host's state_dir. Called once per
  // test; reopening the store reuses the same config, so it must name the same store.
  std::function<std::string(const std::filesystem::path& dir)> make_config;
  // Optional. Called with the same `dir` after the test closed the store and before the
  // directory is removed: a backend whose data lives outside `dir` (a database server) drops
  // what make_config created here.
  std::function<void(const std::filesystem::path& dir)> cleanup;
};

// Name generator for INSTANTIATE_TEST_SUITE_P: the test names end in the backend's name.
struct BackendName {
  std::string operator()(const testing::TestParamInfo<StorageBackend>& info) const {
    return info.param.name;
  }
};

inline void PrintTo(const StorageBackend& b, std::ostream* os) {
  *os << b.name << " (" << b.plugin_id << " in " << b.module_path << ")";
}

}  // namespace vespid::storage_test
