#include "plugin_loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace vespid::storage_test {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw std::runtime_error("storage module \"" + path + "\": " + why);
}

StoragePlugin load(const std::string& path, const std::string& id) {
  // RTLD_LOCAL: a plugin's symbols must not satisfy another's (the host loads them the same way).
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) fail(path, std::string("dlopen failed: ") + dlerror());
  auto query = reinterpret_cast<vsp_module_query_fn>(dlsym(lib, VSP_MODULE_QUERY_SYMBOL));
  if (query == nullptr) fail(path, "does not export " VSP_MODULE_QUERY_SYMBOL);

  const vsp_module_info* info = query(VSP_ABI_MAJOR, VSP_ABI_MINOR);
  if (info == nullptr) fail(path, "vsp_module_query returned NULL for this host's ABI");
  if (!VSP_HAS_MEMBER(vsp_module_info, info, plugins)) {
    fail(path, "vsp_module_info is too small (" + std::to_string(info->struct_size) + " bytes)");
  }
  if (info->abi_major != VSP_ABI_MAJOR) {
    fail(path, "built against ABI " + std::to_string(info->abi_major) + "." +
                   std::to_string(info->abi_minor) + ", this host speaks major " +
                   std::to_string(VSP_ABI_MAJOR));
  }
  if (info->abi_minor > VSP_ABI_MINOR) {
    fail(path, "built against ABI minor " + std::to_string(info->abi_minor) +
                   ", newer than this host's " + std::to_string(VSP_ABI_MINOR));
  }

  for (uint32_t i = 0; i < info->plugin_count; ++i) {
    const vsp_plugin_desc& d = info->plugins[i];
    if (d.struct_size < sizeof(vsp_plugin_desc)) fail(path, "plugin descriptor too small");
    if (d.id == nullptr || id != d.id) continue;
    if (d.kind != VSP_KIND_STORAGE) {
      fail(path, "plugin \"" + id + "\" is of kind " + std::to_string(d.kind) + ", not storage (" +
                     std::to_string(VSP_KIND_STORAGE) + ")");
    }
    // Every function of ABI 1.0's storage table is required, so the table must reach `commit`.
    if (d.vtbl == nullptr || d.vtbl_size < VSP_SIZE_THROUGH(vsp_storage_vtbl, commit) ||
        *static_cast<const uint32_t*>(d.vtbl) != d.vtbl_size) {
      fail(path, "plugin \"" + id + "\" has a malformed storage table");
    }
    StoragePlugin p;
    p.module_path = path;
    p.module_name = info->name ? info->name : "";
    p.module_version = info->version ? info->version : "";
    p.abi_major = info->abi_major;
    p.abi_minor = info->abi_minor;
    p.description = d.description ? d.description : "";
    std::memcpy(&p.vtbl, d.vtbl, std::min<size_t>(d.vtbl_size, sizeof p.vtbl));
    const vsp_lifecycle& l = p.vtbl.life;
    if (!l.create || !l.start || !l.stop || !l.destroy || !p.vtbl.get || !p.vtbl.scan ||
        !p.vtbl.commit) {
      fail(path, "plugin \"" + id + "\" leaves a required storage function NULL");
    }
    return p;  // the library stays loaded for the life of the process, as in the gateway
  }
  fail(path, "has no plugin with id \"" + id + "\"");
}

}  // namespace

const StoragePlugin& load_storage_plugin(const std::string& module_path,
                                         const std::string& plugin_id) {
  static std::mutex mu;
  static std::map<std::pair<std::string, std::string>, std::unique_ptr<StoragePlugin>> loaded;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = loaded[{module_path, plugin_id}];
  if (!slot) slot = std::make_unique<StoragePlugin>(load(module_path, plugin_id));
  return *slot;
}

}  // namespace vespid::storage_test
