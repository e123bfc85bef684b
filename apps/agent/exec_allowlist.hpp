// What a bridge node may run (`vespid-agent node start --allow`): an explicit list of
// executables, empty by default, so nothing runs unless the user named it. An entry is either a
// name ("echo"), which allows that name looked up on PATH, or an absolute path
// ("/usr/bin/echo"), which allows exactly that file. Paths are compared as written, never through
// symlinks: coreutils and busybox install one multicall binary under many names, and resolving
// links would let `--allow echo` run `rm`.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vespid::agent {

// Where `name` is on `path_var` (a PATH value): the first absolute directory holding an
// executable regular file of that name. Relative and empty PATH entries are skipped (they would
// depend on the working directory). nullopt when not found, or when `name` has a '/'.
std::optional<std::string> find_on_path(const std::string& name, const std::string& path_var);

struct AllowDecision {
  std::string path;      // the file to execute, when allowed
  std::string error;     // why not, when refused (the message of the invoke's error)
  bool invalid = false;  // the request itself is malformed (INVALID_REQUEST), not just refused
  bool allowed() const { return error.empty(); }
};

class ExecAllowlist {
 public:
  ExecAllowlist() = default;
  // Throws std::invalid_argument for an entry that is neither a plain name nor a normal
  // absolute path ("./x", "a/b", "/usr/../bin/x", "").
  explicit ExecAllowlist(std::vector<std::string> entries);

  bool empty() const { return entries_.empty(); }
  const std::vector<std::string>& entries() const { return entries_; }

  // May argv[0] run, and which file is it? `path_var` is the PATH the child gets. A name is
  // looked up on PATH; an absolute path is taken as written; anything else is invalid.
  AllowDecision check(const std::string& argv0, const std::string& path_var) const;

  // For system.which: where an allowed name is; nullopt when it is not allowed or not found.
  std::optional<std::string> which(const std::string& name, const std::string& path_var) const;

 private:
  std::vector<std::string> entries_;
};

}  // namespace vespid::agent
