#include "gateway/state_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "gateway/exit_codes.hpp"

namespace vespid::core {

namespace fs = std::filesystem;

void prepare_state_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      throw StartupError(exit_code::kStateDir,
                         "cannot create state directory " + dir + ": " + ec.message());
    }
    ::chmod(dir.c_str(), 0700);  // database, socket and keys live here
  } else if (!fs::is_directory(dir, ec)) {
    throw StartupError(exit_code::kStateDir, "state directory " + dir + " is not a directory");
  }
  // access() answers for the real uid; a probe file answers for what will actually happen
  // (read-only mounts, full disks, ACLs).
  std::string probe = dir + "/.write-probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ::write(fd, "x", 1) != 1) {
    int e = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(probe.c_str());
    throw StartupError(exit_code::kStateDir,
                       "state directory " + dir + " is not writable: " + std::strerror(e));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

StateDirLock::StateDirLock(const std::string& dir) {
  std::string path = dir + "/gateway.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw StartupError(exit_code::kStateDir, "cannot open " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    ::close(fd_);
    fd_ = -1;
    throw StartupError(exit_code::kLocked,
                       "another vespid-gateway (pid " + pid + ") is using the state directory " +
                           dir + "; stop it first, or give this one its own --state-dir");
  }
  std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) < 0) {
    // The lock itself is what matters; the pid is only a courtesy for the message above.
  }
}

StateDirLock::~StateDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace vespid::core
