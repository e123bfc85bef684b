// Loads a storage plugin the way the gateway does: dlopen the module, call its one exported
// symbol, check the ABI version it was built against, and find the storage descriptor by id.
#pragma once

#include <vespid/storage.h>

#include <cstdint>
#include <string>

namespace vespid::storage_test {

struct StoragePlugin {
  std::string module_path;
  std::string module_name;
  std::string module_version;
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  std::string description;
  // The plugin's table copied into a zeroed one of this build's size, as the host does, so a
  // hook an older plugin lacks reads as NULL.
  vsp_storage_vtbl vtbl{};
};

// Loads (once per path and id; modules are never unloaded) and returns the plugin. Throws
// std::runtime_error with a message that says what was wrong.
const StoragePlugin& load_storage_plugin(const std::string& module_path,
                                         const std::string& plugin_id);

}  // namespace vespid::storage_test
