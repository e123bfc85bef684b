// Preparing the state directory and holding it: one gateway per state directory, enforced with
// an flock on <state>/gateway.lock that the kernel releases however the process ends.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace vespid::core {

class StartupError : public std::runtime_error {
 public:
  StartupError(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

// Creates the directory (0700) if needed and checks that it is writable. The directory holds
// session contents, token hashes and the TLS key, so it is made private to its owner: an
// existing directory, and the files the gateway keeps in it (vespid.db*, gateway.*, tls/), that
// group or others may read is tightened (0700 for folders, 0600 for files), each change returned
// for the log; the process umask is set
// to 077 so that everything created later (the database, its WAL and SHM files) is private too.
// Throws StartupError when something cannot be made private (owned by another user, say).
std::vector<std::string> prepare_state_dir(const std::string& dir);

class StateDirLock {
 public:
  // Throws StartupError(kLocked) naming the other process when the directory is in use.
  explicit StateDirLock(const std::string& dir);
  ~StateDirLock();
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace vespid::core
