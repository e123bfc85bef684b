#include "pg_server.hpp"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "child_process.hpp"  // pick_free_port
#include "proc_stats.hpp"

namespace vespid::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

bool has_programs(const std::string& dir) {
  return ::access((dir + "/initdb").c_str(), X_OK) == 0 &&
         ::access((dir + "/postgres").c_str(), X_OK) == 0;
}

// Starts argv in a process group of its own (so stop() can end the backends too), as uid/gid
// when they are not -1, with stdout and stderr appended to `log`. Environment: the bench's own
// without PG* (PGDATA, PGPORT... would redirect the server) and with a C locale, so initdb does
// not depend on the machine's.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log, uid_t uid, gid_t gid) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view kv(*e);
    if (kv.starts_with("PG") || kv.starts_with("LC_") || kv.starts_with("LANG=")) continue;
    env.emplace_back(kv);
  }
  env.emplace_back("LC_ALL=C");
  // Built before fork: the bench has threads, and a child of a threaded process may not
  // allocate.
  std::vector<char*> c_args, c_env;
  for (const auto& a : argv) c_args.push_back(const_cast<char*>(a.c_str()));
  c_args.push_back(nullptr);
  for (auto& kv : env) c_env.push_back(kv.data());
  c_env.push_back(nullptr);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) throw std::runtime_error("cannot open " + log + ": " + std::strerror(errno));
  if (uid != static_cast<uid_t>(-1) && ::fchown(out, uid, gid) != 0) {
    ::close(out);
    throw std::runtime_error("cannot chown " + log + ": " + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    if (uid != static_cast<uid_t>(-1) &&
        (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)) {
      ::_exit(126);
    }
    // After the credential change, which clears it: a crashed bench leaves no server behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execve(c_args[0], c_args.data(), c_env.data());
    ::_exit(127);
  }
  ::close(out);
  return pid;
}

// The exit status (128+N after a signal), or -1 if it did not exit in time.
int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace

std::string PgServer::find_bindir() {
  if (const char* env = std::getenv("VESPID_PG_BINDIR"); env && has_programs(env)) return env;
  std::string best;
  long best_major = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    char* end = nullptr;
    const long major = std::strtol(name.c_str(), &end, 10);
    const std::string bin = entry.path().string() + "/bin";
    if (end && *end == '\0' && major > best_major && has_programs(bin)) {
      best = bin;
      best_major = major;
    }
  }
  return best;
}

PgServer::~PgServer() {
  stop();
}

double PgServer::cpu_seconds() const {
  // The postmaster's process tree: each backend calls setsid(), so its process group holds only
  // the postmaster (and what it has reaped).
  return pid_ > 0 ? tree_cpu_seconds(pid_) : std::nan("");
}

std::string PgServer::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=vespid";
}

std::string PgServer::log_tail() const {
  std::ifstream in(dir_ + "/server.log");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  return all.size() > 2000 ? "..." + all.substr(all.size() - 2000) : all;
}

void PgServer::start() {
  bindir_ = find_bindir();
  if (bindir_.empty()) {
    throw std::runtime_error(
        "no PostgreSQL server programs (initdb, postgres) in $VESPID_PG_BINDIR or "
        "/usr/lib/postgresql/*/bin (apt-get install postgresql)");
  }
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("nobody");
    if (!pw) throw std::runtime_error("running as root and there is no user nobody for postgres");
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  // In /tmp, which `nobody` can reach (a root-only $TMPDIR would not do).
  char tmpl[] = "/tmp/vespid-bench-pg-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  if (uid != static_cast<uid_t>(-1) && ::chown(dir_.c_str(), uid, gid) != 0) {
    throw std::runtime_error("chown " + dir_ + ": " + std::strerror(errno));
  }
  const std::string log = dir_ + "/server.log";
  // trust: it listens on 127.0.0.1 only, for this run. --no-sync only skips initdb's own fsync
  // of the template files; the server itself runs with fsync on.
  const pid_t init = spawn({bindir_ + "/initdb", "-D", dir_ + "/data", "-A", "trust", "-U",
                            "vespid", "-E", "UTF8", "--locale=C", "--no-sync"},
                           log, uid, gid);
  if (const int rc = wait_exit(init, 180s); rc != 0) {
    if (rc == -1) ::kill(init, SIGKILL), ::waitpid(init, nullptr, 0);
    throw std::runtime_error("initdb failed (" + std::to_string(rc) + "):\n" + log_tail());
  }
  port_ = pick_free_port();
  pid_ = spawn({bindir_ + "/postgres", "-D", dir_ + "/data", "-k", dir_, "-h", "127.0.0.1", "-p",
                std::to_string(port_)},
               log, uid, gid);
  const std::string probe = conninfo() + " connect_timeout=2";
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (PQping(probe.c_str()) != PQPING_OK) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("postgres exited while starting:\n" + log_tail());
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("postgres did not accept connections in 120 s:\n" + log_tail());
    }
    std::this_thread::sleep_for(50ms);
  }
}

void PgServer::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGINT);  // fast shutdown: sessions ended, a checkpoint, exit
    if (wait_exit(pid_, 30s) < 0) ::kill(-pid_, SIGKILL), ::waitpid(pid_, nullptr, 0);
    ::kill(-pid_, SIGKILL);  // whatever of its group is left (nothing should be)
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
}

}  // namespace vespid::bench
