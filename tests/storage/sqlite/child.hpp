// Runs part of a test in a forked child, so it can give up what the test process has (root, the
// host's mount table) without the test process giving it up too. The child uses no GoogleTest
// (it must not report into the parent's run): it returns an exit code and may write text the
// parent then checks with ordinary assertions.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace vespid::storage_test::sqlite {

struct ChildResult {
  int exit_code = -1;  // -1: the child did not exit normally (killed by a signal)
  std::string output;  // everything `body` appended to its argument
};

// Forks, runs `body(output)` in the child and _exits with what it returns.
ChildResult run_in_child(const std::function<int(std::string& output)>& body);

// The unprivileged user a root test runs as ("nobody" on most systems).
inline constexpr unsigned kNobody = 65534;

// In a child: drops every privilege to kNobody (groups, gid, uid). Returns "" or what failed.
std::string drop_to_nobody();

// In a child: enters a new mount namespace and bind-mounts `dir` onto itself read-only, so the
// child (root included) gets EROFS for any write under it. Needs CAP_SYS_ADMIN. Returns "" or
// what failed.
std::string mount_read_only(const std::filesystem::path& dir);

// Gives `path` (a file or a directory, not recursively) to kNobody. Throws on failure.
void give_to_nobody(const std::filesystem::path& path);

}  // namespace vespid::storage_test::sqlite
