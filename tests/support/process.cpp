#include "process.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace vespid::test {

namespace {

using Clock = std::chrono::steady_clock;

std::string find_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;  // exec fails and says so
}

std::vector<std::string> build_env(const EnvOverrides& env,
                                   const std::vector<std::string>& strip_prefixes) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    const std::string_view name = kv.substr(0, kv.find('='));
    bool drop = env.count(std::string(name)) > 0;
    for (const auto& p : strip_prefixes) drop = drop || name.substr(0, p.size()) == p;
    if (!drop) out.emplace_back(kv);
  }
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_array(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// In the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const char* file, char* const* argv, char* const* envp, int in_fd,
                             int out_fd, int err_fd, int report_fd, pid_t parent) {
#ifdef __linux__
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
#else
  (void)parent;
#endif
  // A test runner may have blocked or ignored signals; the program under test must see the
  // defaults, or SIGTERM tests would test nothing.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGINT, SIG_DFL);

  if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) {
    const int err = errno;
    (void)!::write(report_fd, &err, sizeof err);
    ::_exit(127);
  }
  ::execve(file, argv, envp);
  const int err = errno;
  (void)!::write(report_fd, &err, sizeof err);
  ::_exit(127);
}

}  // namespace

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

pid_t spawn(const std::vector<std::string>& argv, const EnvOverrides& env, int in_fd, int out_fd,
            int err_fd, const std::vector<std::string>& strip_prefixes) {
  if (argv.empty()) throw std::runtime_error("spawn: empty argv");
  // Everything the child needs is built before fork(): after it, in a multithreaded test
  // binary, the child may not allocate.
  const std::string file = find_in_path(argv[0]);
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = build_env(env, strip_prefixes);
  std::vector<char*> c_args = c_array(args);
  std::vector<char*> c_envs = c_array(envs);

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2 failed: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(report[0]);
    ::close(report[1]);
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(err));
  }
  if (pid == 0) {
    ::close(report[0]);
    exec_child(file.c_str(), c_args.data(), c_envs.data(), in_fd, out_fd, err_fd, report[1],
               parent);
  }
  ::close(report[1]);
  // exec succeeded iff the close-on-exec pipe closes without a word.
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n > 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    throw std::runtime_error("cannot run " + file + ": " + std::strerror(child_errno));
  }
  return pid;
}

CommandResult run_command(const std::vector<std::string>& argv, const EnvOverrides& env,
                          std::chrono::milliseconds timeout) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2 failed: ") + std::strerror(errno));
  }
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid;
  try {
    pid = spawn(argv, env, devnull, out_pipe[1], err_pipe[1]);
  } catch (...) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], devnull}) ::close(fd);
    throw;
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(devnull);

  CommandResult result{-1, {}, {}};
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_pipes = 2;
  bool timed_out = false;
  auto deadline = Clock::now() + timeout;
  while (open_pipes > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      if (timed_out) break;  // killed, yet something (a grandchild) holds the pipes open
      timed_out = true;
      ::kill(pid, SIGKILL);
      deadline = Clock::now() + std::chrono::seconds(2);
      continue;
    }
    const int ready = ::poll(fds, 2, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  for (auto& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }

  int status = 0;
  if (!timed_out) {
    // Both pipes closed: the child is exiting, or it closed them and lives on. Bound the wait.
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (Clock::now() >= deadline) {
        timed_out = true;
        ::kill(pid, SIGKILL);
        break;
      }
      ::usleep(2000);
    }
  }
  if (timed_out) {
    ::waitpid(pid, &status, 0);
    result.exit_code = -1;
    result.err += "\n[run_command: " + argv[0] + " timed out after " +
                  std::to_string(timeout.count()) + " ms and was killed]\n";
    return result;
  }
  result.exit_code = decode_wait_status(status);
  return result;
}

}  // namespace vespid::test
