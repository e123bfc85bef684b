#include "system_run_params.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

namespace vespid::agent {

namespace {

constexpr std::array<const char*, 9> kSafeKeys = {"PATH",   "HOME",     "USER", "LOGNAME", "LANG",
                                                  "LC_ALL", "LC_CTYPE", "TZ",   "TMPDIR"};
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool has_nul(const std::string& s) {
  return s.find('\0') != std::string::npos;
}

// A string field that may be missing or null; anything else is an error.
bool optional_string(const nlohmann::json& p, const char* key, std::string& out,
                     ParamsError& error) {
  const auto it = p.find(key);
  if (it == p.end() || it->is_null()) return true;
  if (!it->is_string()) {
    error.message = std::string(key) + " must be a string";
    return false;
  }
  out = it->get<std::string>();
  return true;
}

bool read_command(const nlohmann::json& p, const RunLimits& limits, RunParams& r,
                  ParamsError& error) {
  const auto it = p.find("command");
  if (it == p.end() || !it->is_array() || it->empty()) {
    error.message = "command required: an array of strings, the program first (argv)";
    return false;
  }
  if (it->size() > limits.max_args) {
    error.message = "command has more than " + std::to_string(limits.max_args) + " arguments";
    return false;
  }
  std::size_t total = 0;
  for (const auto& a : *it) {
    if (!a.is_string()) {
      error.message = "command must be an array of strings";
      return false;
    }
    r.argv.push_back(a.get<std::string>());
    total += r.argv.back().size() + 1;
    if (has_nul(r.argv.back())) {
      error.message = "command arguments cannot contain NUL characters";
      return false;
    }
  }
  if (total > limits.max_arg_bytes) {
    error.message = "command is longer than " + std::to_string(limits.max_arg_bytes) + " bytes";
    return false;
  }
  if (r.argv.front().empty()) {
    error.message = "command[0] is empty";
    return false;
  }
  return true;
}

bool read_env(const nlohmann::json& p, RunParams& r, ParamsError& error) {
  const auto it = p.find("env");
  if (it == p.end() || it->is_null()) return true;
  if (!it->is_object()) {
    error.message = "env must be an object of strings";
    return false;
  }
  for (const auto& [raw_key, value] : it->items()) {
    if (!value.is_string()) {
      error.message = "env." + raw_key + " must be a string";
      return false;
    }
    const std::string key = trim(raw_key);
    if (key.empty()) continue;
    if (key.find('=') != std::string::npos || has_nul(key) || has_nul(value.get<std::string>())) {
      error.message = "env key \"" + key + "\" or its value is not usable in an environment";
      return false;
    }
    // Dropped, not refused, as the reference does: a caller may pass its whole environment.
    if (env_key_blocked(key)) {
      r.dropped_env.push_back(key);
      continue;
    }
    r.env[key] = value.get<std::string>();
  }
  return true;
}

bool read_timeout(const nlohmann::json& p, const RunLimits& limits, RunParams& r,
                  ParamsError& error) {
  r.timeout = limits.default_timeout;
  const auto it = p.find("timeoutMs");
  if (it == p.end() || it->is_null()) return true;
  if (!it->is_number()) {
    error.message = "timeoutMs must be a number of milliseconds";
    return false;
  }
  const double ms = it->get<double>();
  if (!(ms >= 0)) {
    error.message = "timeoutMs must not be negative";
    return false;
  }
  if (ms == 0) return true;  // the reference reads 0 as "no timeout": ours is the default
  const double capped = std::min(ms, static_cast<double>(limits.max_timeout.count()));
  r.timeout = std::chrono::milliseconds(std::max<long long>(1, static_cast<long long>(capped)));
  return true;
}

}  // namespace

std::optional<RunParams> parse_run_params(const nlohmann::json& params, const RunLimits& limits,
                                          ParamsError& error) {
  if (params.is_null()) {
    error.message = "paramsJSON required";
    return std::nullopt;
  }
  if (!params.is_object()) {
    error.message = "params must be a JSON object";
    return std::nullopt;
  }
  RunParams r;
  if (!read_command(params, limits, r, error)) return std::nullopt;
  std::string raw, session;
  if (!optional_string(params, "cwd", r.cwd, error) ||
      !optional_string(params, "rawCommand", raw, error) ||
      !optional_string(params, "sessionKey", session, error)) {
    return std::nullopt;
  }
  r.cwd = trim(r.cwd);
  if (!r.cwd.empty() && (r.cwd.front() != '/' || has_nul(r.cwd))) {
    error.message = "cwd must be an absolute path";
    return std::nullopt;
  }
  if (!read_env(params, r, error) || !read_timeout(params, limits, r, error)) return std::nullopt;
  if (const auto it = params.find("needsScreenRecording"); it != params.end() && it->is_boolean()) {
    r.needs_screen_recording = it->get<bool>();
  }
  raw = trim(raw);
  r.command_text = raw.empty() ? format_command(r.argv) : raw;
  session = trim(session);
  r.session_key = session.empty() ? "node" : session;
  return r;
}

std::optional<std::vector<std::string>> parse_which_params(const nlohmann::json& params,
                                                           ParamsError& error) {
  const auto it = params.is_object() ? params.find("bins") : params.end();
  if (!params.is_object() || it == params.end() || !it->is_array()) {
    error.message = "bins required: an array of executable names";
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& b : *it) {
    if (!b.is_string()) {
      error.message = "bins must be an array of strings";
      return std::nullopt;
    }
    std::string name = trim(b.get<std::string>());
    if (!name.empty()) out.push_back(std::move(name));
  }
  return out;
}

bool env_key_blocked(const std::string& key) {
  static const std::array<const char*, 12> kBlocked = {
      "PATH",    "NODE_OPTIONS", "PYTHONHOME", "PYTHONPATH", "PERL5LIB",  "PERL5OPT",
      "RUBYOPT", "BASH_ENV",     "ENV",        "IFS",        "SHELLOPTS", "GCONV_PATH"};
  const std::string u = upper(key);
  for (const char* b : kBlocked) {
    if (u == b) return true;
  }
  return u.rfind("LD_", 0) == 0 || u.rfind("DYLD_", 0) == 0;
}

std::map<std::string, std::string> own_safe_environment() {
  std::map<std::string, std::string> own;
  for (const char* key : kSafeKeys) {
    if (const char* v = std::getenv(key); v != nullptr) own[key] = v;
  }
  return own;
}

std::string child_path(const std::map<std::string, std::string>& own) {
  const auto it = own.find("PATH");
  return it == own.end() || it->second.empty() ? kDefaultPath : it->second;
}

std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra,
                                           const std::map<std::string, std::string>& own) {
  std::map<std::string, std::string> env;
  for (const char* key : kSafeKeys) {
    if (const auto it = own.find(key); it != own.end()) env[key] = it->second;
  }
  env["PATH"] = child_path(own);
  for (const auto& [k, v] : extra) {
    if (!env_key_blocked(k)) env[k] = v;
  }
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::string format_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    if (a.empty()) {
      out += "\"\"";
    } else if (a.find_first_of(" \t\n\"") == std::string::npos) {
      out += a;
    } else {
      out += '"';
      for (char c : a) {
        if (c == '"') out += '\\';
        out += c;
      }
      out += '"';
    }
  }
  return out;
}

}  // namespace vespid::agent
