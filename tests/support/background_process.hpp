// A program of ours running in the background (a node host, a worker), its stdout and stderr in
// a log file the test reads. Killed with SIGKILL when the test is done with it, if still running.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "process.hpp"
#include "temp_dir.hpp"

namespace vespid::test {

class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const EnvOverrides& env,
                    const std::string& log_path)
      : log_path_(log_path) {
    int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_ = spawn(argv, env, in, out, out, {"VESPID_"});
    ::close(out);
    ::close(in);
  }
  ~BackgroundProcess() { kill_now(); }
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // The exit code, or -1 if still running after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) return exit_code_ = decode_wait_status(status);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  // kill -9, as a crash or the OOM killer would: no chance to hand anything back.
  void kill_now() {
    if (pid_ > 0 && exit_code_ < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      exit_code_ = 128 + SIGKILL;
    }
  }
  void signal(int sig) {
    if (pid_ > 0 && exit_code_ < 0) ::kill(pid_, sig);
  }
  std::string log() const { return read_file(log_path_); }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string log_path_;
};

}  // namespace vespid::test
