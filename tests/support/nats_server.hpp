// A throwaway NATS server for tests: Debian's nats-server on a free 127.0.0.1 port, its log and
// any config in a private temporary directory, stopped and removed when the object goes. Only
// loopback: nothing listens beyond this machine. The port stays the same across stop/kill and
// start, so a client that reconnects finds the server again, as after a real restart.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace vespid::test {

class NatsServer {
 public:
  // Where nats-server is: $VESPID_NATS_SERVER, else /usr/bin/nats-server, /usr/sbin/nats-server,
  // else `nats-server` in $PATH. Empty when there is none.
  static std::string find_binary();
  // Why no server can be started here, or nothing when one can. For VESPID_SKIP_UNLESS_CI. A
  // non-empty VESPID_TEST_FORCE_NO_NATS makes it answer as if the program were missing.
  static std::optional<std::string> unavailable();

  // `config` (nats-server's configuration syntax, e.g. "authorization { token: s3cret }") is
  // written to <dir>/nats.conf and passed with -c when not empty. Throws std::runtime_error
  // when there is no nats-server.
  explicit NatsServer(std::string config = {});
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  // Starts the server (a free port the first time, the same port afterwards) and returns once it
  // accepts connections. Throws std::runtime_error with the end of its log if it does not.
  void start();
  // Graceful: SIGTERM (clients see their connection closed), waiting for the exit; SIGKILL
  // after 10 s.
  void stop();
  // Simulates a crash: SIGKILL.
  void kill();
  void restart() {
    stop();
    start();
  }
  bool running() const noexcept { return pid_ > 0; }

  int port() const noexcept { return port_; }
  std::string url() const;  // "nats://127.0.0.1:<port>"
  const std::string& dir() const noexcept { return dir_; }
  // dir()/name
  std::string file(const std::string& name) const;
  // The server's log so far (all starts).
  std::string log() const;

 private:
  bool launch();  // false: the port was taken (a new one is picked)
  void wait_ready();

  std::string binary_;
  std::string config_;
  std::string dir_;
  std::string log_path_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace vespid::test
