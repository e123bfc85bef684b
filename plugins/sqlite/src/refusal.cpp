#include "refusal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace vespid::sqlite {

std::string write_refused(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};  // missing: nothing to refuse yet
  // Creating a file in a directory needs write and search permission on it.
  const int mode = S_ISDIR(st.st_mode) ? (W_OK | X_OK) : W_OK;
  if (::faccessat(AT_FDCWD, path.c_str(), mode, AT_EACCESS) == 0) return {};
  return std::strerror(errno);
}

std::string directory_of(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

bool is_refusal(int sys_errno) noexcept {
  return sys_errno == EACCES || sys_errno == EPERM || sys_errno == EROFS;
}

}  // namespace vespid::sqlite
