// Files only this user may read (credentials, the bridge node's token): written whole or not at
// all, mode 0600 in 0700 directories. A reader never sees half a file, and a crash leaves the
// old one: temporary file, fsync, rename, fsync of the directory.
#pragma once

#include <stdexcept>
#include <string>

namespace vespid::agent {

class PrivateFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The directory part of a path ("." when there is none).
std::string dirname_of(const std::string& path);

// Creates missing directories (0700), then replaces `path` with `text` (0600). Throws
// PrivateFileError naming the file and the reason.
void write_private_file(const std::string& path, const std::string& text);

}  // namespace vespid::agent
