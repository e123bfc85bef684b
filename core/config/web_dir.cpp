#include "config/web_dir.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <filesystem>

namespace vespid::config {

namespace fs = std::filesystem;

std::string installed_web_dir() {
  std::error_code ec;
  const auto exe = boost::dll::program_location(ec);
  if (ec) return {};
  return (fs::path(exe.string()).parent_path().parent_path() / "share" / "vespid" / "web")
      .lexically_normal()
      .string();
}

void apply_web_dir(nlohmann::json& effective, std::vector<std::string>& errors) {
  nlohmann::json& instances = effective["plugins"]["instances"];
  const std::string configured = effective["web"]["dir"].get<std::string>();
  const std::string dir = configured.empty() ? installed_web_dir() : configured;
  for (auto& inst : instances) {
    if (!inst.contains("config") || !inst["config"].is_object()) continue;
    auto& cfg = inst["config"];
    auto it = cfg.find("static_dir");
    if (it == cfg.end() || !it->is_string() || it->get<std::string>() != kWebDirPlaceholder) {
      continue;
    }
    std::error_code ec;
    if (dir.empty() || !fs::is_directory(dir, ec)) {
      std::string msg = "config error: web.dir: the web control client's files are not at \"";
      msg += dir;
      msg += "\" (instance \"";
      msg += inst.value("name", "");
      msg +=
          "\" serves them: \"static_dir\": \"@web\"); set web.dir (VESPID_WEB_DIR) to the "
          "directory that holds its index.html, or leave that instance out";
      errors.push_back(std::move(msg));
      continue;
    }
    *it = dir;
  }
}

}  // namespace vespid::config
