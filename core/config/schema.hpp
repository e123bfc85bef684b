// Every configuration key the gateway knows, with its type, default and meaning. One table drives
// validation, defaults, VESPID_* environment overrides, `config show` and docs/configuration.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vespid::config {

enum class Type {
  String,
  Int,
  Bool,
  Enum,        // a string from `choices`
  StringList,  // array of strings; from the environment, colon-separated
  LevelMap,    // object: component name -> log level
  Instances,   // the plugin instance list (validated field by field)
};

struct KeySpec {
  std::string path;  // dotted: "log.level"
  Type type;
  nlohmann::json default_value;
  std::string description;
  std::vector<std::string> choices = {};  // Enum
  int64_t min = 0;                        // Int
  int64_t max = 0;                        // Int (0: no upper bound)
  bool secret = false;                    // masked in `config show`, never given to plugins
};

const std::vector<KeySpec>& schema();
const KeySpec* find_key(const std::string& path);

// "log.level" -> "VESPID_LOG_LEVEL"
std::string env_name(const std::string& path);

// The instance list the gateway runs with no config file.
nlohmann::json default_instances();

}  // namespace vespid::config
