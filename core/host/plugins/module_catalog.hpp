// Finds plugin modules, asks each what it is, and decides whether this gateway can load it.
// Modules are loaded with Boost.DLL and never unloaded (a plugin's threads, atexit handlers and
// static objects would otherwise dangle).
#pragma once

#include <boost/dll/shared_library.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace vespid::core {

struct PluginEntry {
  std::string id;
  uint32_t kind = 0;
  std::string description;
  const void* vtbl = nullptr;
  uint32_t vtbl_size = 0;
};

struct ModuleEntry {
  std::string file;  // absolute path
  std::string name;
  std::string version;
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  bool loadable = false;
  std::string error;  // why not, when !loadable
  std::vector<PluginEntry> plugins;
};

const char* kind_name(uint32_t kind);

class ModuleCatalog {
 public:
  // Loads every *.so in each directory (missing directories are skipped). Refusals are recorded
  // in the entries, never thrown.
  void scan(const std::vector<std::string>& dirs);

  const std::vector<ModuleEntry>& modules() const noexcept { return modules_; }

  // The module and plugin named by `ref` ("id" or "module-name/id"). Throws std::runtime_error
  // whose message says what was searched and what to do.
  struct Found {
    const ModuleEntry* module;
    const PluginEntry* plugin;
  };
  Found find(const std::string& ref) const;

  // The directory of plugins that ship with this gateway: <exe>/../lib/vespid/plugins.
  static std::string builtin_dir();

 private:
  void inspect(const std::string& file);

  std::vector<std::string> dirs_;
  std::vector<ModuleEntry> modules_;
  std::vector<boost::dll::shared_library> libraries_;
};

}  // namespace vespid::core
