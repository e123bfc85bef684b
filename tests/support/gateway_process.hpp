// A real vespid-gateway process for integration tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "process.hpp"

namespace vespid::test {

using namespace std::chrono_literals;

class GatewayProcess {
 public:
  GatewayProcess() = default;
  // Kills the gateway (SIGKILL) if it is still running.
  ~GatewayProcess();
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  // Runs `vespid-gateway run --state-dir <state_dir> --plugin-dir <build plugin dir> <extra>`,
  // creating state_dir (0700) if needed. stdout and stderr go to a fresh log file in state_dir
  // (see log_path()). The test's VESPID_* variables are not passed on, so a developer's own
  // settings cannot change what a test sees; pass what a test needs in `env`. Throws if the
  // binary cannot be started or a gateway from this object is still running.
  void start(const std::string& state_dir, const std::vector<std::string>& extra_args = {},
             const EnvOverrides& env = {});

  // Runs the gateway through this command prefix from the next start() on, e.g.
  // {"ip", "netns", "exec", "<ns>"} to run it inside a network namespace (that command must
  // exec the gateway, so pid() stays the gateway's).
  void set_launcher(std::vector<std::string> prefix) { launcher_ = std::move(prefix); }

  // Ready means <state_dir>/gateway.sock accepts a connection and `health` answers ok. Fails
  // early if the process exits; the failure message carries the gateway's log.
  ::testing::AssertionResult wait_ready(std::chrono::milliseconds timeout = 20s);

  // SIGTERM, then waits up to `timeout` for the exit; returns the exit code (-1 if it did not
  // exit in time, after which the process is killed with SIGKILL).
  int terminate(std::chrono::milliseconds timeout = 20s);
  // SIGKILL and reap; returns the exit code (137 unless it had already exited).
  int kill9();
  // Waits for the process to exit; returns its exit code (128+N after signal N), or -1 if it is
  // still running after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout);
  // True while the process has not been seen to exit.
  bool running();

  pid_t pid() const { return pid_; }
  const std::string& state_dir() const { return state_dir_; }
  std::string socket_path() const { return state_dir_ + "/gateway.sock"; }
  const std::string& log_path() const { return log_path_; }
  // Everything the gateway printed so far.
  std::string log_text() const;

 private:
  bool reap(int options);

  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  std::string state_dir_;
  std::string log_path_;
  std::vector<std::string> launcher_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released). Another
// process may take it before the test binds it; good enough for tests on one machine.
int pick_free_port();

}  // namespace vespid::test
