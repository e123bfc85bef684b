// Running real binaries from tests: fork/exec with captured output and a hard timeout.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace vespid::test {

// Variables to set (or replace) in the child's environment, on top of the test's own.
using EnvOverrides = std::map<std::string, std::string>;

struct CommandResult {
  int exit_code;  // the exit status; 128+N if killed by signal N; -1 if it timed out
  std::string out, err;
};

// Runs argv (argv[0] is a path, or a name looked up in $PATH) with stdin from /dev/null,
// collecting stdout and stderr. On timeout the process is killed with SIGKILL, exit_code is -1
// and a note is appended to err.
CommandResult run_command(const std::vector<std::string>& argv, const EnvOverrides& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Lower level, shared with GatewayProcess. Starts argv with the given fds as its stdin, stdout
// and stderr, in an environment built from the test's own minus every variable whose name
// starts with one of `strip_prefixes`, plus `env`. On Linux the child is killed if the thread
// that started it dies, so a crashed test leaves no daemon behind. Throws std::runtime_error if
// the program cannot be started.
pid_t spawn(const std::vector<std::string>& argv, const EnvOverrides& env, int in_fd, int out_fd,
            int err_fd, const std::vector<std::string>& strip_prefixes = {});

// An exit status from waitpid() as CommandResult::exit_code reports it.
int decode_wait_status(int status);

}  // namespace vespid::test
