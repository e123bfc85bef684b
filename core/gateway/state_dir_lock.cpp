#include "gateway/state_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "gateway/exit_codes.hpp"

namespace vespid::core {

namespace fs = std::filesystem;

namespace {
std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}
}  // namespace

namespace {

// Takes group and other bits off `path` (not following links). Returns a note when it changed
// something; throws StartupError when it cannot.
std::optional<std::string> make_private(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) return std::nullopt;
  if ((st.st_mode & 077) == 0) return std::nullopt;
  const mode_t want = S_ISDIR(st.st_mode) ? 0700 : (st.st_mode & 0700);
  if (::chmod(path.c_str(), want) != 0) {
    throw StartupError(exit_code::kStateDir,
                       path + " is readable by other users (mode " + octal(st.st_mode & 0777) +
                           ") and cannot be made private: " + std::strerror(errno) +
                           "; fix its owner or mode (chmod go-rwx)");
  }
  return path + ": mode " + octal(st.st_mode & 0777) + " -> " + octal(want);
}

bool gateway_owned(const std::string& name) {
  return name == "tls" || name.rfind("vespid.db", 0) == 0 || name.rfind("gateway.", 0) == 0;
}

}  // namespace

std::vector<std::string> prepare_state_dir(const std::string& dir) {
  ::umask(077);  // the database, its WAL/SHM files, keys and sockets: the owner's only
  std::vector<std::string> tightened;
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
  if (auto note = make_private(dir)) tightened.push_back(*note);
  // Only what the gateway itself keeps there (the database and its WAL/SHM files, the lock, the
  // socket, tls/ and its keys): a state directory pointed at a shared folder (a home directory)
  // must not have the rest of that folder's modes changed.
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!gateway_owned(name)) continue;
    if (auto note = make_private(entry.path().string())) tightened.push_back(*note);
    if (name == "tls" && entry.is_directory(ec)) {
      for (const auto& key : fs::directory_iterator(entry.path(), ec)) {
        if (auto note = make_private(key.path().string())) tightened.push_back(*note);
      }
    }
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
  return tightened;
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
