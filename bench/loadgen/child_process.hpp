// The processes the bench starts: the gateway, nats-server, and its own baseline servers. Each
// is killed if the bench dies (PR_SET_PDEATHSIG), so a crashed run leaves no daemon behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace vespid::bench {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv with stdout and stderr appended to log_path; `env` is added to the bench's own
  // environment. Throws std::runtime_error if it cannot be started.
  void start(const std::vector<std::string>& argv, const std::string& log_path,
             const std::map<std::string, std::string>& env = {});
  // SIGTERM, up to `grace` for the exit, then SIGKILL. Returns the exit status (128+N after a
  // signal), or -1 if there was no process.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // True while the process has not been seen to exit.
  bool running();
  pid_t pid() const noexcept { return pid_; }

 private:
  pid_t pid_ = -1;
};

// Raises this process's open-file limit (soft and, as root, hard) to at least `want`; children
// inherit it. Returns the soft limit in force afterwards.
long raise_nofile(long want);

// A TCP port on 127.0.0.1 that was free a moment ago.
int pick_free_port();

}  // namespace vespid::bench
