#include "child.hpp"

#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace vespid::storage_test::sqlite {
namespace {

std::string failed(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

}  // namespace

ChildResult run_in_child(const std::function<int(std::string& output)>& body) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(failed("pipe"));
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(failed("fork"));
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    int code = 125;
    try {
      code = body(out);
    } catch (const std::exception& e) {
      out += std::string("child threw: ") + e.what();
    }
    for (size_t off = 0; off < out.size();) {
      ssize_t n = ::write(fds[1], out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::_exit(code);  // no destructors, no atexit: the parent owns everything the fork copied
  }
  ::close(fds[1]);
  ChildResult r;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      r.output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string drop_to_nobody() {
  if (::setgroups(0, nullptr) != 0) return failed("setgroups");
  if (::setgid(kNobody) != 0) return failed("setgid");
  if (::setuid(kNobody) != 0) return failed("setuid");
  return {};
}

std::string mount_read_only(const std::filesystem::path& dir) {
  if (::unshare(CLONE_NEWNS) != 0) return failed("unshare(CLONE_NEWNS)");
  // Private first, so the read-only mount below never propagates back to the host.
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return failed("making / private");
  }
  if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return failed("bind-mounting " + dir.string());
  }
  if (::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
    return failed("remounting " + dir.string() + " read-only");
  }
  return {};
}

void give_to_nobody(const std::filesystem::path& path) {
  if (::chown(path.c_str(), kNobody, kNobody) != 0) {
    throw std::runtime_error(failed("chown " + path.string()));
  }
}

}  // namespace vespid::storage_test::sqlite
