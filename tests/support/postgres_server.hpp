// A throwaway PostgreSQL server for tests: a fresh cluster (initdb) in a private temporary
// directory, served on a free 127.0.0.1 port, stopped and removed when the object goes. Only
// loopback: nothing listens beyond this machine.
//
// initdb and postgres refuse to run as root, so when the test runs as root (CI does) both run
// as the unprivileged user `nobody`, which owns the directory. The server is its own process
// group; stop() ends the group, and the postmaster gets SIGKILL if the thread that started it
// dies, so a crashed test leaves no server behind (its backends exit when the postmaster dies).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vespid::test {

class PostgresServer {
 public:
  // Where initdb and postgres are: $VESPID_PG_BINDIR, else the newest
  // /usr/lib/postgresql/<major>/bin (Debian's layout), else the directory of `initdb` in $PATH.
  // Empty when none has both programs.
  static std::string find_bindir();
  // Why no server can be started here (e.g. "initdb and postgres not found ... install
  // postgresql"), or nothing when one can. For VESPID_SKIP_UNLESS_CI. A non-empty
  // VESPID_TEST_FORCE_NO_POSTGRES makes it answer as if the programs were missing.
  static std::optional<std::string> unavailable();

  // Extra `-c name=value` settings for postgres, e.g. {"ssl=on", "ssl_cert_file=/x.crt"}.
  explicit PostgresServer(std::vector<std::string> settings = {});
  // Stops the server and removes the directory.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // One more `-c` setting from the next start() on (e.g. a certificate placed in dir()).
  void add_setting(std::string setting) { settings_.push_back(std::move(setting)); }

  // Creates the cluster (once) and starts the server; throws std::runtime_error with the end
  // of the server's log if it does not come up. The superuser is `vespid` (trust auth), and a
  // database `vespid` exists once start() returned the first time. Later starts reuse the
  // cluster and the port.
  void start();
  // Fast shutdown (SIGINT: sessions are terminated, as in a restart by an administrator),
  // waiting for the server to exit; SIGKILL to the group after 30 s.
  void stop();
  // Simulates a crash: SIGKILL to the whole process group at once.
  void kill();
  bool running() const noexcept { return pid_ > 0; }

  int port() const noexcept { return port_; }
  const std::string& dir() const noexcept { return dir_; }
  // "host=127.0.0.1 port=<port> dbname=<db> user=vespid"
  std::string conninfo(const std::string& db = "vespid") const;

  // Runs `sql` on a fresh connection as the superuser; returns the first column of the first
  // row as text ("" when there is none). Throws std::runtime_error with the server's message.
  std::string query(const std::string& sql, const std::string& db = "vespid") const;
  // The server's log so far.
  std::string log() const;

 private:
  void init_cluster();
  bool launch();  // false: the port was taken (a new one is picked)
  void wait_ready();

  std::vector<std::string> settings_;
  std::string bindir_;
  std::string dir_;
  std::string data_dir_;
  std::string log_path_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool initialised_ = false;
  bool created_db_ = false;
  // The unprivileged user the programs run as when this process is root; -1 otherwise.
  uid_t uid_ = static_cast<uid_t>(-1);
  gid_t gid_ = static_cast<gid_t>(-1);
};

}  // namespace vespid::test
