// A real node host for integration tests: `vespid-agent connect` pairs it through a gateway's
// REST API, `start` runs it (echo engine, fast reconnects) until kill(). Needs VESPID_AGENT_BIN.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.hpp"
#include "temp_dir.hpp"

namespace vespid::test {

class AgentHost {
 public:
  AgentHost(const TempDir& dir, const std::string& name, const std::string& pairing_token,
            int api_port) {
    config_ = dir.file(name + ".json");
    log_ = dir.file(name + ".log");
    CommandResult c = run_command({VESPID_AGENT_BIN, "connect", "--config", config_,
                                   "--pairing-token", pairing_token, "--api",
                                   "http://127.0.0.1:" + std::to_string(api_port), "--name", name});
    EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
    id_ = nlohmann::json::parse(read_file(config_), nullptr, false).value("agentId", "");
  }
  ~AgentHost() { kill(); }
  // `extra`: more `start` options, e.g. {"--gateway", "ws://a/ws,ws://b/ws"}; an
  // --echo-delay-ms there replaces the default 0.
  void start(const EnvOverrides& env = {}, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {VESPID_AGENT_BIN,     "start", "--config",           config_,
                                     "--reconnect-min-ms", "20",    "--reconnect-max-ms", "200"};
    if (std::find(extra.begin(), extra.end(), "--echo-delay-ms") == extra.end()) {
      argv.insert(argv.end(), {"--echo-delay-ms", "0"});
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    const int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_ = spawn(argv, env, null_fd, null_fd, log_fd);
    ::close(null_fd);
    ::close(log_fd);
  }
  void kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  const std::string& id() const { return id_; }
  std::string log() const { return read_file(log_); }

 private:
  std::string config_, log_, id_;
  pid_t pid_ = -1;
};

}  // namespace vespid::test
