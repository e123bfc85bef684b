#include "exec_allowlist.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace vespid::agent {

namespace {

bool is_plain_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\0') == std::string::npos;
}

// Absolute, and already in the form lexically_normal gives: no ".", "..", "//" or trailing '/'.
bool is_normal_absolute(const std::string& s) {
  if (s.size() < 2 || s.front() != '/' || s.back() == '/') return false;
  if (s.find('\0') != std::string::npos) return false;
  return std::filesystem::path(s).lexically_normal().string() == s;
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string hint() {
  return "start the node with --allow <name or absolute path> (repeatable) or list it under "
         "\"allow\" in its node state file";
}

}  // namespace

std::optional<std::string> find_on_path(const std::string& name, const std::string& path_var) {
  if (!is_plain_name(name)) return std::nullopt;
  std::size_t start = 0;
  while (start <= path_var.size()) {
    const std::size_t colon = std::min(path_var.find(':', start), path_var.size());
    const std::string dir = path_var.substr(start, colon - start);
    start = colon + 1;
    if (dir.empty() || dir.front() != '/') continue;
    std::string candidate = dir.back() == '/' ? dir + name : dir + "/" + name;
    if (is_executable_file(candidate)) return candidate;
  }
  return std::nullopt;
}

ExecAllowlist::ExecAllowlist(std::vector<std::string> entries) : entries_(std::move(entries)) {
  for (const auto& e : entries_) {
    if (!is_plain_name(e) && !is_normal_absolute(e)) {
      throw std::invalid_argument("--allow \"" + e +
                                  "\": give an executable's name (echo) or its absolute path "
                                  "(/usr/bin/echo), without '.' or '..'");
    }
  }
  std::sort(entries_.begin(), entries_.end());
  entries_.erase(std::unique(entries_.begin(), entries_.end()), entries_.end());
}

AllowDecision ExecAllowlist::check(const std::string& argv0, const std::string& path_var) const {
  AllowDecision d;
  const bool by_name = is_plain_name(argv0);
  if (!by_name && !is_normal_absolute(argv0)) {
    d.invalid = true;
    d.error = "command[0] \"" + argv0 +
              "\" must be an executable's name (looked up on PATH) or a normal absolute path";
    return d;
  }
  if (entries_.empty()) {
    d.error =
        "SYSTEM_RUN_DENIED: this node allows no executables (its allowlist is empty); " + hint();
    return d;
  }
  const bool listed = std::find(entries_.begin(), entries_.end(), argv0) != entries_.end();
  if (by_name) {
    if (!listed) {
      // A name may still be allowed through its absolute path.
      const auto found = find_on_path(argv0, path_var);
      if (found && std::find(entries_.begin(), entries_.end(), *found) != entries_.end()) {
        d.path = *found;
        return d;
      }
      d.error = "SYSTEM_RUN_DENIED: \"" + argv0 + "\" is not on this node's allowlist; " + hint();
      return d;
    }
    const auto found = find_on_path(argv0, path_var);
    if (!found) {
      d.error = "SYSTEM_RUN_FAILED: \"" + argv0 + "\" is allowed but not found on PATH (" +
                path_var + ")";
      return d;
    }
    d.path = *found;
    return d;
  }
  // An absolute path: allowed as written, or because its name is allowed and PATH finds this
  // very file under that name.
  bool ok = listed;
  if (!ok) {
    const std::string base = std::filesystem::path(argv0).filename().string();
    const bool name_listed = std::find(entries_.begin(), entries_.end(), base) != entries_.end();
    ok = name_listed && find_on_path(base, path_var) == argv0;
  }
  if (!ok) {
    d.error = "SYSTEM_RUN_DENIED: \"" + argv0 + "\" is not on this node's allowlist; " + hint();
    return d;
  }
  if (!is_executable_file(argv0)) {
    d.error = "SYSTEM_RUN_FAILED: \"" + argv0 + "\" is allowed but is not an executable file";
    return d;
  }
  d.path = argv0;
  return d;
}

std::optional<std::string> ExecAllowlist::which(const std::string& name,
                                                const std::string& path_var) const {
  if (!is_plain_name(name)) return std::nullopt;
  const AllowDecision d = check(name, path_var);
  if (!d.allowed()) return std::nullopt;
  return d.path;
}

}  // namespace vespid::agent
