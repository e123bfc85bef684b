#include "config/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/did_you_mean.hpp"
#include "config/listen_ports.hpp"
#include "config/schema.hpp"
#include "config/web_dir.hpp"
#include "state_dir.hpp"  // libs/paths

extern char** environ;

namespace vespid::config {

using nlohmann::json;

namespace {

std::string type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "a number";
  }
}

std::string expected(const KeySpec& k) {
  switch (k.type) {
    case Type::String:
      return "a string";
    case Type::Int:
      return "an integer" + (k.max
                                 ? " from " + std::to_string(k.min) + " to " + std::to_string(k.max)
                                 : " >= " + std::to_string(k.min));
    case Type::Bool:
      return "true or false";
    case Type::Enum: {
      std::string s = "one of";
      for (size_t i = 0; i < k.choices.size(); ++i) s += (i ? ", \"" : " \"") + k.choices[i] + "\"";
      return s;
    }
    case Type::StringList:
      return "an array of strings";
    case Type::LevelMap:
      return "an object mapping component names to log levels";
    case Type::Instances:
      return "an array of plugin instances";
  }
  return "?";
}

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw ConfigError("config error: " + where + ": " + what);
}

// Names that may appear directly under `prefix` ("" for the top level).
std::set<std::string> children_of(const std::string& prefix) {
  std::set<std::string> out;
  for (const auto& k : schema()) {
    if (!prefix.empty() && k.path.rfind(prefix + ".", 0) != 0) continue;
    std::string rest = prefix.empty() ? k.path : k.path.substr(prefix.size() + 1);
    out.insert(rest.substr(0, rest.find('.')));
  }
  return out;
}

std::string unknown_key_message(const std::string& prefix, const std::string& key) {
  const std::set<std::string> known = children_of(prefix);
  return "unknown key" + did_you_mean(key, {known.begin(), known.end()});
}

void check_level(const std::string& where, const json& v) {
  static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "off"};
  if (!v.is_string() || !levels.count(v.get<std::string>())) {
    fail(where, "expected a log level (trace, debug, info, warn, error, off), got " + v.dump());
  }
}

void validate_instance(const std::string& at, const json& inst, std::set<std::string>& names) {
  static const std::regex name_re("^[a-z0-9][a-z0-9_-]{0,63}$");
  if (!inst.is_object())
    fail(at, "expected an object {name, plugin, config?, required?}, got " + type_name(inst));
  for (auto it = inst.begin(); it != inst.end(); ++it) {
    static const std::vector<std::string> allowed = {"name", "plugin", "config", "required"};
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      fail(at + "." + it.key(), "unknown key" + did_you_mean(it.key(), allowed) +
                                    "; an instance has name, plugin, config, required");
    }
  }
  if (!inst.contains("name") || !inst["name"].is_string()) fail(at + ".name", "expected a string");
  if (!inst.contains("plugin") || !inst["plugin"].is_string())
    fail(at + ".plugin", "expected a string");
  std::string name = inst["name"];
  if (!std::regex_match(name, name_re)) {
    fail(at + ".name",
         "expected lowercase letters, digits, '-' or '_' (at most 64), got \"" + name + "\"");
  }
  if (!names.insert(name).second) fail(at + ".name", "duplicate instance name \"" + name + "\"");
  if (inst.contains("config") && !inst["config"].is_object()) {
    fail(at + ".config", "expected an object, got " + type_name(inst["config"]));
  }
  if (inst.contains("required") && !inst["required"].is_boolean()) {
    fail(at + ".required", "expected true or false, got " + type_name(inst["required"]));
  }
}

// Adds a ConfigError's lines to `errors`.
void record(const ConfigError& e, std::vector<std::string>& errors) {
  std::stringstream lines(e.what());
  for (std::string line; std::getline(lines, line);) errors.push_back(line);
}

// The instances that pass, in order; each one that does not is an error. Every instance is
// checked, so that one bad instance hides neither the next one's problem nor the checks
// `config check` makes of the good ones.
json accepted_instances(const std::string& where, const json& v, std::vector<std::string>& errors,
                        std::vector<size_t>* positions = nullptr) {
  if (!v.is_array()) fail(where, "expected an array of plugin instances, got " + type_name(v));
  std::set<std::string> names;
  json accepted = json::array();
  for (size_t i = 0; i < v.size(); ++i) {
    try {
      validate_instance(where + "[" + std::to_string(i) + "]", v[i], names);
      accepted.push_back(v[i]);
      if (positions) positions->push_back(i);
    } catch (const ConfigError& e) {
      record(e, errors);
    }
  }
  return accepted;
}

void validate_instances(const std::string& where, const json& v) {
  std::vector<std::string> errors;
  accepted_instances(where, v, errors);
  std::string text;
  for (const auto& e : errors) text += (text.empty() ? "" : "\n") + e;
  if (!errors.empty()) throw ConfigError(text);
}

void validate_value(const KeySpec& k, const std::string& where, const json& v) {
  switch (k.type) {
    case Type::String:
      if (!v.is_string()) fail(where, "expected " + expected(k) + ", got " + type_name(v));
      break;
    case Type::Int: {
      if (!v.is_number_integer()) fail(where, "expected " + expected(k) + ", got " + type_name(v));
      int64_t n = v.get<int64_t>();
      if (n < k.min || (k.max && n > k.max))
        fail(where, "expected " + expected(k) + ", got " + v.dump());
      break;
    }
    case Type::Bool:
      if (!v.is_boolean()) fail(where, "expected " + expected(k) + ", got " + type_name(v));
      break;
    case Type::Enum:
      if (!v.is_string() ||
          std::find(k.choices.begin(), k.choices.end(), v.get<std::string>()) == k.choices.end()) {
        fail(where, "expected " + expected(k) + ", got " + v.dump());
      }
      break;
    case Type::StringList:
      if (!v.is_array()) fail(where, "expected " + expected(k) + ", got " + type_name(v));
      for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string())
          fail(where + "[" + std::to_string(i) + "]", "expected a string, got " + type_name(v[i]));
      }
      break;
    case Type::LevelMap:
      if (!v.is_object()) fail(where, "expected " + expected(k) + ", got " + type_name(v));
      for (auto it = v.begin(); it != v.end(); ++it)
        check_level(where + "." + it.key(), it.value());
      break;
    case Type::Instances:
      validate_instances(where, v);
      break;
  }
}

json::json_pointer pointer(const std::string& path) {
  return json::json_pointer("/" + std::regex_replace(path, std::regex("\\."), "/"));
}

// Walks the file's object, validating every leaf against the schema and copying it into `out`.
// A key in error keeps its default and the walk goes on, so one run reports every problem.
// `positions`: where each accepted instance was in the file's list, for messages.
void merge_file(const json& node, const std::string& prefix, json& out,
                std::vector<std::string>& errors, std::vector<size_t>& positions) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
    try {
      if (const KeySpec* k = find_key(path); k && k->type == Type::Instances) {
        positions.clear();
        out[pointer(path)] = accepted_instances(path, it.value(), errors, &positions);
      } else if (k) {
        validate_value(*k, path, it.value());
        out[pointer(path)] = it.value();
      } else if (!children_of(path).empty()) {
        if (!it.value().is_object()) fail(path, "expected an object, got " + type_name(it.value()));
        merge_file(it.value(), path, out, errors, positions);
      } else {
        fail(path, unknown_key_message(prefix, it.key()));
      }
    } catch (const ConfigError& e) {
      record(e, errors);
    }
  }
}

json parse_env(const KeySpec& k, const std::string& var, const std::string& text) {
  std::string where = var + " (environment, for " + k.path + ")";
  switch (k.type) {
    case Type::String:
      return text;
    case Type::Enum: {
      json v = text;
      validate_value(k, where, v);
      return v;
    }
    case Type::Int: {
      try {
        size_t used = 0;
        long long n = std::stoll(text, &used);
        if (used != text.size()) throw std::invalid_argument("trailing");
        json v = n;
        validate_value(k, where, v);
        return v;
      } catch (const std::logic_error&) {
        fail(where, "expected " + expected(k) + ", got \"" + text + "\"");
      }
    }
    case Type::Bool:
      if (text == "1" || text == "true") return true;
      if (text == "0" || text == "false") return false;
      fail(where, "expected true/false or 1/0, got \"" + text + "\"");
    case Type::StringList: {
      json arr = json::array();
      std::stringstream ss(text);
      std::string part;
      while (std::getline(ss, part, ':')) {
        if (!part.empty()) arr.push_back(part);
      }
      return arr;
    }
    default:
      fail(where, "this key cannot be set from the environment; use the config file");
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError("config error: cannot read config file " + path + ": " +
                      std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::map<std::string, std::string> process_env() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    if (kv.rfind("VESPID_", 0) != 0) continue;
    auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

namespace {

// The file's keys over `eff`; problems go to cfg.errors.
void apply_file(const std::string& file_path, json& eff, GatewayConfig& cfg,
                std::vector<size_t>& positions) {
  json file;
  try {
    std::string text = read_file(file_path);
    try {
      file = json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
    } catch (const json::exception& e) {
      // parse_error, or out_of_range for a number too large for a double ("1e400").
      fail(file_path + " is not valid JSON", e.what());
    }
    if (!file.is_object()) {
      fail(file_path, "the top level must be an object, got " + type_name(file));
    }
  } catch (const ConfigError& e) {
    record(e, cfg.errors);
    return;
  }
  merge_file(file, "", eff, cfg.errors, positions);
  cfg.source = file_path;
}

// The VESPID_* variables over `eff`. One that names no key is most likely a typo: worth a
// warning (with the nearest name), but a stray variable in a service's environment must not
// keep the gateway down. Variables that other programs of the suite read are expected.
void apply_env(const std::map<std::string, std::string>& env, json& eff, GatewayConfig& cfg) {
  static const std::set<std::string> foreign = {"VESPID_CONFIG", "VESPID_AGENT_TLS_CA_FILE",
                                                "VESPID_KEEP_TEST_DIRS"};
  std::vector<std::string> names;
  for (const auto& k : schema()) names.push_back(env_name(k.path));
  for (const auto& [var, text] : env) {
    const KeySpec* spec = nullptr;
    for (const auto& k : schema()) {
      if (env_name(k.path) == var) spec = &k;
    }
    if (spec == nullptr) {
      if (!foreign.count(var)) {
        cfg.warnings.push_back(var + " is set but names no configuration key; ignored" +
                               did_you_mean(var, names) +
                               " (`vespid-gateway config show` lists the keys)");
      }
      continue;
    }
    try {
      eff[pointer(spec->path)] = parse_env(*spec, var, text);
    } catch (const ConfigError& e) {
      record(e, cfg.errors);
    }
  }
}

void apply_flags(const std::map<std::string, json>& flags, json& eff, GatewayConfig& cfg) {
  for (const auto& [path, value] : flags) {
    try {
      const KeySpec* spec = find_key(path);
      if (spec == nullptr) fail(path, "unknown key");
      validate_value(*spec, path + " (command line)", value);
      eff[pointer(path)] = value;
    } catch (const ConfigError& e) {
      record(e, cfg.errors);
    }
  }
}

}  // namespace

GatewayConfig load(const LoadOptions& options) {
  GatewayConfig cfg = load_reporting_all(options);
  if (!cfg.errors.empty()) {
    std::string text;
    for (const auto& e : cfg.errors) text += (text.empty() ? "" : "\n") + e;
    throw ConfigError(text);
  }
  return cfg;
}

GatewayConfig load_reporting_all(const LoadOptions& options) {
  json eff = json::object();
  for (const auto& k : schema()) eff[pointer(k.path)] = k.default_value;

  GatewayConfig cfg;
  cfg.source = "(defaults)";
  std::vector<size_t> positions;  // empty: the default list, nothing left out
  if (!options.file.empty()) apply_file(options.file, eff, cfg, positions);
  apply_env(options.env, eff, cfg);
  apply_flags(options.flags, eff, cfg);
  apply_listen_ports(eff, cfg.errors);
  apply_web_dir(eff, cfg.errors);

  cfg.state_dir = paths::resolve_state_dir(eff["state_dir"].get<std::string>());
  eff["state_dir"] = cfg.state_dir;
  cfg.log_level = eff["log"]["level"];
  cfg.log_format = eff["log"]["format"];
  for (auto it = eff["log"]["components"].begin(); it != eff["log"]["components"].end(); ++it) {
    cfg.log_components[it.key()] = it.value();
  }
  cfg.plugin_dirs = eff["plugins"]["dirs"].get<std::vector<std::string>>();
  for (const auto& inst : eff["plugins"]["instances"]) {
    PluginInstance p;
    p.position = positions.empty() ? cfg.instances.size() : positions[cfg.instances.size()];
    p.name = inst["name"];
    p.plugin = inst["plugin"];
    if (inst.contains("config")) p.config = inst["config"];
    if (inst.contains("required")) p.required = inst["required"];
    cfg.instances.push_back(std::move(p));
  }
  cfg.storage_max_batch = eff["storage"]["max_batch"];
  cfg.storage_defer_syncs = eff["storage"]["defer_syncs"];
  cfg.storage_queue_depth = eff["storage"]["queue_depth"];
  cfg.max_connections = eff["limits"]["max_connections"];
  cfg.max_anonymous_per_peer = eff["limits"]["max_anonymous_per_peer"];
  cfg.connection_queue_depth = eff["limits"]["connection_queue_depth"];
  cfg.shutdown_timeout_ms = eff["shutdown"]["timeout_ms"];
  cfg.effective = std::move(eff);
  return cfg;
}

int64_t GatewayConfig::integer(const std::string& path) const {
  return effective.at(pointer(path)).get<int64_t>();
}
std::string GatewayConfig::string(const std::string& path) const {
  return effective.at(pointer(path)).get<std::string>();
}
bool GatewayConfig::boolean(const std::string& path) const {
  return effective.at(pointer(path)).get<bool>();
}
std::vector<std::string> GatewayConfig::strings(const std::string& path) const {
  return effective.at(pointer(path)).get<std::vector<std::string>>();
}

json masked(const GatewayConfig& cfg) {
  json out = cfg.effective;
  for (const auto& k : schema()) {
    if (!k.secret) continue;
    auto p = pointer(k.path);
    if (out.contains(p) && !(out[p].is_string() && out[p].get<std::string>().empty()))
      out[p] = "********";
  }
  return out;
}

const json* lookup_public(const GatewayConfig& cfg, const std::string& path) {
  if (const KeySpec* k = find_key(path); k && k->secret) return nullptr;
  for (const auto& k : schema()) {
    if (k.secret && path.rfind(k.path, 0) == 0) return nullptr;
  }
  try {
    const json& v = cfg.effective.at(pointer(path));
    return &v;
  } catch (const json::exception&) {
    return nullptr;
  }
}

}  // namespace vespid::config
