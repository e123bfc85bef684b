#include "host/plugins/module_catalog.hpp"

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "vespid/vespid.h"

namespace vespid::core {

namespace fs = std::filesystem;

const char* kind_name(uint32_t kind) {
  switch (kind) {
    case VSP_KIND_TRANSPORT:
      return "transport";
    case VSP_KIND_NETBIND:
      return "netbind";
    case VSP_KIND_DISCOVERY:
      return "discovery";
    case VSP_KIND_STORAGE:
      return "storage";
    case VSP_KIND_BUS:
      return "bus";
    default:
      return "unknown";
  }
}

namespace {

// The size of each kind's table as the minor that introduced the kind defined it (through its
// last member then; 1.0 for all but the bus, 1.3): a module must provide at least that. Not
// sizeof(): the tables grow at the end with every minor version, and a module built against an
// older one is still welcome (tests/abi checks it).
uint32_t min_vtbl_size(uint32_t kind) {
  switch (kind) {
    case VSP_KIND_TRANSPORT:
      return VSP_SIZE_THROUGH(vsp_transport_vtbl, admit);
    case VSP_KIND_NETBIND:
      return VSP_SIZE_THROUGH(vsp_netbind_vtbl, set_change_callback);
    case VSP_KIND_DISCOVERY:
      return VSP_SIZE_THROUGH(vsp_discovery_vtbl, browse_stop);
    case VSP_KIND_STORAGE:
      return VSP_SIZE_THROUGH(vsp_storage_vtbl, commit);
    case VSP_KIND_BUS:
      return VSP_SIZE_THROUGH(vsp_bus_vtbl, is_up);
    default:
      return 0;
  }
}

std::string abi_text(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

}  // namespace

std::string ModuleCatalog::builtin_dir() {
  std::error_code ec;
  auto exe = boost::dll::program_location(ec);
  if (ec) return {};
  return (fs::path(exe.string()).parent_path().parent_path() / "lib" / "vespid" / "plugins")
      .lexically_normal()
      .string();
}

void ModuleCatalog::scan(const std::vector<std::string>& dirs) {
  dirs_.insert(dirs_.end(), dirs.begin(), dirs.end());
  std::set<std::string> seen;
  for (const auto& m : modules_) seen.insert(m.file);
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".so" && e.is_regular_file(ec)) {
        files.push_back(fs::canonical(e.path(), ec).string());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (seen.insert(f).second) inspect(f);
    }
  }
}

void ModuleCatalog::inspect(const std::string& file) {
  ModuleEntry m;
  m.file = file;
  namespace dll = boost::dll;
  dll::shared_library lib;
  std::error_code ec;
  lib.load(file, dll::load_mode::rtld_now | dll::load_mode::rtld_local, ec);
  if (ec) {
    m.error = file + ": cannot be loaded: " + ec.message();
    modules_.push_back(std::move(m));
    return;
  }
  if (!lib.has(VSP_MODULE_QUERY_SYMBOL)) {
    m.error = file + ": not a Vespid plugin module (it exports no " VSP_MODULE_QUERY_SYMBOL ")";
    libraries_.push_back(std::move(lib));
    modules_.push_back(std::move(m));
    return;
  }
  auto query = lib.get<const vsp_module_info*(uint32_t, uint32_t)>(VSP_MODULE_QUERY_SYMBOL);
  libraries_.push_back(std::move(lib));  // never unloaded
  const vsp_module_info* info = query(VSP_ABI_MAJOR, VSP_ABI_MINOR);
  if (info == nullptr) {
    m.error = file + ": the module declined to work with plugin ABI " +
              abi_text(VSP_ABI_MAJOR, VSP_ABI_MINOR);
    modules_.push_back(std::move(m));
    return;
  }
  // Only the first fields are trusted until the version is known to match.
  m.abi_major = info->abi_major;
  m.abi_minor = info->abi_minor;
  const std::string host_abi = abi_text(VSP_ABI_MAJOR, VSP_ABI_MINOR);
  if (info->abi_major != VSP_ABI_MAJOR) {
    m.error = file + ": built for plugin ABI " + abi_text(info->abi_major, info->abi_minor) +
              ", this gateway speaks ABI " + host_abi +
              "; rebuild the plugin against the Vespid SDK " + std::to_string(VSP_ABI_MAJOR) + ".x";
  } else if (info->abi_minor > VSP_ABI_MINOR) {
    m.error = file + ": needs plugin ABI " + abi_text(info->abi_major, info->abi_minor) +
              ", this gateway speaks ABI " + host_abi +
              "; upgrade vespid-gateway or use a build of the plugin made for ABI " + host_abi;
  } else if (info->struct_size < sizeof(vsp_module_info)) {
    m.error =
        file + ": malformed module info (struct_size " + std::to_string(info->struct_size) + ")";
  }
  if (!m.error.empty()) {
    modules_.push_back(std::move(m));
    return;
  }
  m.name = info->name ? info->name : "";
  m.version = info->version ? info->version : "";
  for (uint32_t i = 0; i < info->plugin_count; ++i) {
    const vsp_plugin_desc& d = info->plugins[i];
    PluginEntry p;
    p.id = d.id ? d.id : "";
    p.kind = d.kind;
    p.description = d.description ? d.description : "";
    p.vtbl = d.vtbl;
    p.vtbl_size = d.vtbl_size;
    uint32_t need = min_vtbl_size(d.kind);
    if (d.struct_size < sizeof(vsp_plugin_desc) || p.id.empty() || d.vtbl == nullptr) {
      m.error = file + ": plugin #" + std::to_string(i) + " has a malformed descriptor";
    } else if (need == 0) {
      m.error = file + ": plugin \"" + p.id + "\" has unknown kind " + std::to_string(d.kind);
    } else if (d.vtbl_size < need || *static_cast<const uint32_t*>(d.vtbl) != d.vtbl_size) {
      m.error = file + ": plugin \"" + p.id + "\" has a " + kind_name(d.kind) + " table of " +
                std::to_string(d.vtbl_size) + " bytes; the ABI needs at least " +
                std::to_string(need);
    }
    m.plugins.push_back(std::move(p));
  }
  m.loadable = m.error.empty();
  modules_.push_back(std::move(m));
}

ModuleCatalog::Found ModuleCatalog::find(const std::string& ref) const {
  std::string module_name, id = ref;
  if (auto slash = ref.find('/'); slash != std::string::npos) {
    module_name = ref.substr(0, slash);
    id = ref.substr(slash + 1);
  }
  std::vector<Found> hits;
  std::vector<const ModuleEntry*> refused;
  for (const auto& m : modules_) {
    if (!module_name.empty() && m.name != module_name) continue;
    for (const auto& p : m.plugins) {
      if (p.id != id) continue;
      if (m.loadable) {
        hits.push_back({&m, &p});
      } else {
        refused.push_back(&m);
      }
    }
  }
  if (hits.size() == 1) return hits.front();
  if (hits.size() > 1) {
    std::string msg = "plugin \"" + ref + "\" is offered by several modules (";
    for (size_t i = 0; i < hits.size(); ++i) msg += (i ? ", " : "") + hits[i].module->name;
    throw std::runtime_error(msg + "); name it as \"<module>/" + id + "\"");
  }
  if (!refused.empty()) throw std::runtime_error(refused.front()->error);
  std::string msg = "no plugin \"" + ref + "\" in the plugin directories (";
  std::set<std::string> dirs(dirs_.begin(), dirs_.end());
  size_t i = 0;
  for (const auto& d : dirs) msg += (i++ ? ", " : "") + d;
  msg += "); `vespid-gateway plugins` lists what is there";
  // A module refused for its ABI cannot say which plugins it holds; name it, it may be the one.
  for (const auto& m : modules_) {
    if (!m.loadable) msg += "\n  refused: " + m.error;
  }
  throw std::runtime_error(msg);
}

}  // namespace vespid::core
