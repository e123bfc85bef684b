#include "process_runner.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "output_cap.hpp"

namespace vespid::agent {

namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// argv/envp for posix_spawn: pointers into the strings, NULL-terminated.
std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

void kill_group(pid_t pid) {
  // The child leads its own session and process group (POSIX_SPAWN_SETSID): this reaches what
  // it started too, unless that moved to a session of its own.
  if (::kill(-pid, SIGKILL) != 0) ::kill(pid, SIGKILL);
}

}  // namespace

ProcessResult run_process(const ProcessSpec& spec) {
  ProcessResult result;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.error = std::string("cannot create a pipe: ") + std::strerror(errno);
    return result;
  }
  Fd out_r{out_pipe[0]}, out_w{out_pipe[1]};
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.error = std::string("cannot create a pipe: ") + std::strerror(errno);
    return result;
  }
  Fd err_r{err_pipe[0]}, err_w{err_pipe[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.fd, 2);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Default signal dispositions and an empty mask: the agent blocks or catches SIGINT/SIGTERM,
  // which a command must not inherit.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> argv = c_strings(spec.argv);
  std::vector<char*> envp = c_strings(spec.env);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, spec.path.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  out_w.reset();
  err_w.reset();
  if (rc != 0) {
    result.error = "cannot start " + spec.path +
                   (spec.cwd.empty() ? std::string() : " in " + spec.cwd) + ": " +
                   std::strerror(rc);
    return result;
  }

  OutputCap cap(spec.max_output_bytes);
  const auto deadline = Clock::now() + spec.timeout;
  std::optional<Clock::time_point> killed_at;
  bool reaped = false;
  int status = 0;
  char buf[16384];
  // Until the process is reaped and both pipes are closed (what it started may hold them).
  while (!reaped || out_r.fd >= 0 || err_r.fd >= 0) {
    const auto now = Clock::now();
    if (!killed_at && spec.stop != nullptr && spec.stop->load()) {
      result.stopped = true;
      killed_at = now;
    } else if (!killed_at && now >= deadline) {
      result.timed_out = true;
      killed_at = now;
    }
    if (killed_at && *killed_at == now) kill_group(pid);
    // Descendants that left the group may hold the pipes open after a kill: stop reading.
    if (reaped && killed_at && now - *killed_at > std::chrono::seconds(2)) break;
    if (!reaped) {
      const pid_t w = ::waitpid(pid, &status, WNOHANG);
      reaped = w == pid || (w < 0 && errno != EINTR);
    }
    // Wake at least every 100 ms to notice a stop, the deadline or the exit.
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    wait = killed_at ? 100 : std::clamp<long long>(wait, 0, 100);
    // Both pipes closed: only the exit is awaited, and it is usually a moment away.
    if (out_r.fd < 0 && err_r.fd < 0) wait = std::min<long long>(wait, 2);
    if (reaped && out_r.fd < 0 && err_r.fd < 0) break;
    pollfd fds[2] = {{out_r.fd, POLLIN, 0}, {err_r.fd, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(wait));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2 && n > 0; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        const std::string_view chunk(buf, static_cast<std::size_t>(got));
        if (i == 0) {
          cap.add_stdout(chunk);
        } else {
          cap.add_stderr(chunk);
        }
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        (i == 0 ? out_r : err_r).reset();
      }
    }
  }
  if (!reaped) {
    kill_group(pid);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.stdout_text = valid_utf8(cap.stdout_text());
  result.stderr_text = valid_utf8(cap.stderr_text());
  result.truncated = cap.truncated();
  return result;
}

}  // namespace vespid::agent
