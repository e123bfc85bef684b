// Runs one program for system.run: no shell (the file is executed with the argv given), stdin
// from /dev/null, the environment given and nothing else, its own session (so a timeout kills
// everything it started), output kept up to a cap, a deadline. Blocks the calling thread; the
// bridge link calls it from a worker thread.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace vespid::agent {

struct ProcessSpec {
  std::string path;               // the file to execute (already allowed and resolved)
  std::vector<std::string> argv;  // argv[0] as the caller wrote it
  std::vector<std::string> env;   // "KEY=value", the whole environment
  std::string cwd;                // empty: the agent's own
  std::chrono::milliseconds timeout{30'000};
  std::size_t max_output_bytes = 200'000;
  const std::atomic<bool>* stop = nullptr;  // set when the agent stops: kill and return
};

struct ProcessResult {
  std::optional<int> exit_code;  // none when killed by a signal or never started
  std::optional<int> signal;     // the signal that ended it
  bool timed_out = false;
  bool stopped = false;                  // killed because the agent stops
  std::string stdout_text, stderr_text;  // valid UTF-8
  bool truncated = false;
  std::string error;  // could not start (ENOENT, a cwd that does not exist, ...)
  bool success() const { return exit_code && *exit_code == 0 && !timed_out && error.empty(); }
};

ProcessResult run_process(const ProcessSpec& spec);

}  // namespace vespid::agent
