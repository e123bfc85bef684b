// Preparing the state directory and holding it: one gateway per state directory, enforced with
// an flock on <state>/gateway.lock that the kernel releases however the process ends.
#pragma once

#include <stdexcept>
#include <string>

namespace vespid::core {

class StartupError : public std::runtime_error {
 public:
  StartupError(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

// Creates the directory (0700) if needed and checks that it is writable. Throws StartupError.
void prepare_state_dir(const std::string& dir);

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
