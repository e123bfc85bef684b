// The PostgreSQL the cluster and storage scenarios point their gateways at: a fresh cluster
// (initdb) in a temporary directory, served on a free 127.0.0.1 port for the run, stopped and
// removed at the end. The bench starts it itself so that it needs nothing of the test tree at
// run time (tests/support/postgres_server.* is the tests' fuller version: restarts, kill -9).
//
// initdb and postgres refuse to run as root; when the bench is root they run as `nobody`,
// who owns the directory. Settings are PostgreSQL's defaults (fsync and synchronous_commit on),
// so its commits are as durable as the SQLite store's (synchronous=full) it is compared with.
#pragma once

#include <sys/types.h>

#include <string>

namespace vespid::bench {

class PgServer {
 public:
  // Where initdb and postgres are: $VESPID_PG_BINDIR, else the newest
  // /usr/lib/postgresql/<major>/bin. Empty when there is none.
  static std::string find_bindir();

  PgServer() = default;
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // initdb, then postgres; returns once it accepts connections. Throws std::runtime_error
  // (with the end of the server's log) when it cannot.
  void start();
  // Fast shutdown (SIGINT), SIGKILL to its process group after 30 s; removes the directory.
  void stop();

  pid_t pid() const noexcept { return pid_; }
  // CPU seconds the server has used so far, every backend included (the postmaster's process
  // tree: each backend is in a session of its own).
  double cpu_seconds() const;
  int port() const noexcept { return port_; }
  // libpq conninfo of the `postgres` database as the superuser `vespid` (trust, loopback only).
  std::string conninfo() const;

 private:
  std::string log_tail() const;

  std::string bindir_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace vespid::bench
