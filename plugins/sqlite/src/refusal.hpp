// Why the operating system refuses a write, in the words an operator needs to fix it. SQLite's
// own messages ("attempt to write a readonly database", "unable to open database file") say
// what failed but not why, and the same message has several causes.
#pragma once

#include <string>

namespace vespid::sqlite {

// The OS's reason why this process may not write `path` ("Permission denied", "Read-only file
// system", "Operation not permitted" for an immutable file), or "" when it may. For a directory,
// asks whether files may be created in it. Uses the effective ids, so root passes mode bits.
std::string write_refused(const std::string& path);

// The directory holding `path` ("." for a bare file name).
std::string directory_of(const std::string& path);

// True for the errno values that mean "not allowed" rather than "broken".
bool is_refusal(int sys_errno) noexcept;

}  // namespace vespid::sqlite
