// A private temporary directory for one test, removed when the test is done.
#pragma once

#include <string>
#include <string_view>

namespace vespid::test {

// Made under $TMPDIR (or /tmp when $TMPDIR is unset or too long for a Unix socket path below
// it), mode 0700. Removed with everything in it on destruction, unless VESPID_KEEP_TEST_DIRS=1,
// in which case its path is printed to stderr for a post-mortem.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "vespid-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name
  std::string file(std::string_view name) const;

 private:
  std::string path_;
};

// The whole content of a file, or an empty string if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace vespid::test
