#include "postgres_server.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "gateway_process.hpp"  // pick_free_port

extern char** environ;

namespace vespid::test {
namespace {

// True while a process of group `pgid` is still running (zombies do not count: they have let go
// of the server's shared memory). Read from /proc: field 3 is the state, field 5 the group.
bool group_has_live_process(pid_t pgid) {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return false;
  bool live = false;
  while (dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != 'Z') {
      live = true;
      break;
    }
  }
  ::closedir(proc);
  return live;
}

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

bool executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

bool has_programs(const std::string& dir) {
  return !dir.empty() && executable(dir + "/initdb") && executable(dir + "/postgres");
}

// The test's environment minus libpq's and the server's own variables (PGDATA, PGPORT, ...),
// which would redirect initdb or postgres, plus a C locale so initdb's checks do not depend on
// the machine's.
std::vector<std::string> child_env() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view kv(*e);
    if (kv.substr(0, 2) == "PG" || kv.substr(0, 3) == "LC_" || kv.substr(0, 5) == "LANG=") {
      continue;
    }
    out.emplace_back(kv);
  }
  out.emplace_back("LC_ALL=C");
  return out;
}

std::vector<char*> c_array(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Starts argv as `uid`/`gid` (when not -1) in a process group of its own, output to out_fd.
pid_t spawn_as(const std::vector<std::string>& argv, int out_fd, uid_t uid, gid_t gid) {
  // Everything the child needs is built before fork(): a multithreaded parent's child may not
  // allocate.
  std::vector<std::string> args = argv;
  std::vector<std::string> env = child_env();
  std::vector<char*> c_args = c_array(args);
  std::vector<char*> c_env = c_array(env);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(report[0]);
    ::close(report[1]);
    ::close(devnull);
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    auto fail = [&](int err) {
      (void)!::write(report[1], &err, sizeof err);
      ::_exit(127);
    };
    ::setpgid(0, 0);
    if (uid != static_cast<uid_t>(-1)) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) fail(errno);
    }
    // After the credential change, which clears it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(devnull, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) fail(errno);
    ::execve(c_args[0], c_args.data(), c_env.data());
    fail(errno);
  }
  ::close(report[1]);
  ::close(devnull);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n > 0) {
    ::waitpid(pid, nullptr, 0);
    throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(child_errno));
  }
  return pid;
}

// waitpid with a deadline; the exit status as a shell reports it, or -1 on timeout.
int wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0 && errno != EINTR) return -2;
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(20ms);
  }
}

std::string tail(const std::string& text, size_t n = 3000) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

}  // namespace

std::string PostgresServer::find_bindir() {
  if (const char* env = std::getenv("VESPID_PG_BINDIR"); env != nullptr && has_programs(env)) {
    return env;
  }
  // Debian: /usr/lib/postgresql/<major>/bin; the newest major wins.
  std::string best;
  int best_major = -1;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    char* end = nullptr;
    const long major = std::strtol(name.c_str(), &end, 10);
    const std::string bin = entry.path().string() + "/bin";
    if (end != nullptr && *end == '\0' && major > best_major && has_programs(bin)) {
      best = bin;
      best_major = static_cast<int>(major);
    }
  }
  if (!best.empty()) return best;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (has_programs(dir)) return dir;
  }
  return "";
}

std::optional<std::string> PostgresServer::unavailable() {
  // Lets a machine that has the programs show what one without them does (docs/testing.md).
  if (const char* force = std::getenv("VESPID_TEST_FORCE_NO_POSTGRES"); force && *force) {
    return std::string(
        "VESPID_TEST_FORCE_NO_POSTGRES is set: behaving as if the PostgreSQL server programs "
        "were missing");
  }
  if (!find_bindir().empty()) return std::nullopt;
  return std::string(
      "the PostgreSQL server programs (initdb, postgres) are not installed: looked in "
      "$VESPID_PG_BINDIR, /usr/lib/postgresql/*/bin and $PATH (scripts/install-deps.sh installs "
      "the postgresql package)");
}

PostgresServer::PostgresServer(std::vector<std::string> settings)
    : settings_(std::move(settings)), bindir_(find_bindir()) {
  if (bindir_.empty()) throw std::runtime_error(*unavailable());
  std::string root = "/tmp";
  if (::geteuid() == 0) {
    // initdb and postgres refuse root. `nobody` must also be able to reach the directory,
    // which a root-only $TMPDIR would not allow: /tmp is world-searchable.
    const passwd* pw = ::getpwnam("nobody");
    if (pw == nullptr) throw std::runtime_error("running as root and there is no user nobody");
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
  } else if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp == '/') {
    root = tmp;
  }
  std::string tmpl = root + "/vespid-pg-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp(" + tmpl + ") failed: " + std::strerror(errno));
  }
  dir_ = tmpl;
  if (uid_ != static_cast<uid_t>(-1) && ::chown(dir_.c_str(), uid_, gid_) != 0) {
    throw std::runtime_error("chown " + dir_ + " failed: " + std::strerror(errno));
  }
  data_dir_ = dir_ + "/data";
  log_path_ = dir_ + "/server.log";
}

PostgresServer::~PostgresServer() {
  try {
    stop();
  } catch (...) {
  }
  const char* keep = std::getenv("VESPID_KEEP_TEST_DIRS");
  if (keep != nullptr && std::string_view(keep) == "1") return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PostgresServer::conninfo(const std::string& db) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + db + " user=vespid";
}

std::string PostgresServer::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void PostgresServer::init_cluster() {
  const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + log_path_);
  pid_t pid;
  try {
    // trust: the server listens on 127.0.0.1 only, for this test's lifetime. --no-sync: a
    // throwaway cluster need not survive a power cut.
    pid = spawn_as({bindir_ + "/initdb", "-D", data_dir_, "-A", "trust", "-U", "vespid", "-E",
                    "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
                   fd, uid_, gid_);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  const int rc = wait_for(pid, 180s);
  if (rc != 0) {
    if (rc == -1) ::kill(pid, SIGKILL), ::waitpid(pid, nullptr, 0);
    throw std::runtime_error("initdb failed (exit " + std::to_string(rc) + "):\n" + tail(log()));
  }
  initialised_ = true;
}

bool PostgresServer::launch() {
  if (port_ == 0) port_ = pick_free_port();
  const size_t log_before = log().size();
  const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + log_path_);
  std::vector<std::string> argv = {
      bindir_ + "/postgres", "-D", data_dir_, "-k", dir_, "-h", "127.0.0.1", "-p",
      std::to_string(port_)};
  for (const auto& s : settings_) {
    argv.push_back("-c");
    argv.push_back(s);
  }
  try {
    pid_ = spawn_as(argv, fd, uid_, gid_);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  try {
    wait_ready();
  } catch (...) {
    const std::string since = log().substr(log_before);
    kill();
    if (since.find("Address already in use") != std::string::npos) {
      port_ = 0;
      return false;
    }
    throw;
  }
  return true;
}

void PostgresServer::wait_ready() {
  const std::string probe = "host=127.0.0.1 port=" + std::to_string(port_) +
                            " dbname=postgres user=vespid connect_timeout=2";
  const auto deadline = Clock::now() + 120s;
  while (true) {
    if (PQping(probe.c_str()) == PQPING_OK) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("postgres exited while starting:\n" + tail(log()));
    }
    if (Clock::now() >= deadline) {
      throw std::runtime_error("postgres did not accept connections within 120 s:\n" + tail(log()));
    }
    std::this_thread::sleep_for(50ms);
  }
}

void PostgresServer::start() {
  if (running()) return;
  if (!initialised_) init_cluster();
  for (int tries = 0, held = 0;;) {
    try {
      if (launch()) break;
      if (++tries == 4) throw std::runtime_error("no free port for postgres after 4 tries");
    } catch (const std::runtime_error& e) {
      // After a kill -9, a backend of the old server that the kernel has not finished tearing
      // down can still be attached to the shared memory block; the new server refuses to start
      // until it lets go. That is a matter of moments: wait and start again, for a while.
      const bool shm_held =
          std::string(e.what()).find("pre-existing shared memory block") != std::string::npos;
      if (!shm_held || ++held == 100) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (!created_db_) {
    query("CREATE DATABASE vespid", "postgres");
    created_db_ = true;
  }
}

void PostgresServer::stop() {
  if (!running()) return;
  // SIGINT is PostgreSQL's fast shutdown: sessions are terminated and the server checkpoints.
  ::kill(pid_, SIGINT);
  if (wait_for(pid_, 30s) < 0) {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  // Anything of the group still alive (it should not be) goes too.
  ::kill(-pid_, SIGKILL);
  pid_ = -1;
}

void PostgresServer::kill() {
  if (!running()) return;
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  // The postmaster is gone, but its backends may still be exiting and holding the shared
  // memory block: a server started now would refuse it ("still in use"). Wait them out.
  for (int i = 0; i < 500 && group_has_live_process(pid_); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  pid_ = -1;
}

std::string PostgresServer::query(const std::string& sql, const std::string& db) const {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo(db).c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("connecting to the test server: " +
                             std::string(PQerrorMessage(conn.get())));
  }
  // Notices (DROP ... CASCADE lists what it dropped) would go to stderr: noise in test output.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), &PQclear);
  const ExecStatusType st = PQresultStatus(res.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    throw std::runtime_error(sql + ": " + PQresultErrorMessage(res.get()));
  }
  if (st == PGRES_TUPLES_OK && PQntuples(res.get()) > 0 && PQnfields(res.get()) > 0) {
    return PQgetvalue(res.get(), 0, 0);
  }
  return "";
}

}  // namespace vespid::test
