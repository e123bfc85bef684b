#include "socket_file.hpp"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <utility>
#include <vespid/plugin.hpp>

namespace vespid::unix_transport {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// Closes the fd unless release() was called, so every throw below cleans up.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

sockaddr_un make_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    throw vsp::Error(VSP_E_INVALID, "unix: socket path is too long (" +
                                        std::to_string(path.size()) + " bytes, the limit is " +
                                        std::to_string(sizeof addr.sun_path - 1) + "): " + path +
                                        "; set a shorter \"path\" or state dir");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// Is something accepting connections on the socket file at `path`? A refused connection means the
// file is a leftover from a gateway that died without cleaning up.
bool someone_listens(const sockaddr_un& addr) {
  FdGuard probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (probe.get() < 0) return false;
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    return true;
  }
  // EAGAIN: a live listener whose backlog is full; still alive.
  return errno == EAGAIN || errno == EINPROGRESS;
}

void clear_leftover(const std::string& path, const sockaddr_un& addr) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw vsp::Error(VSP_E_IO, "unix: cannot inspect " + path + ": " + errno_text(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    // Never delete something we did not make: a misconfigured path might name a real file.
    throw vsp::Error(VSP_E_ADDR_IN_USE,
                     "unix: " + path + " exists and is not a socket; refusing to replace it");
  }
  if (someone_listens(addr)) {
    throw vsp::Error(VSP_E_ADDR_IN_USE, "unix: another process is listening on " + path);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw vsp::Error(
        VSP_E_IO, "unix: cannot remove the stale socket file " + path + ": " + errno_text(errno));
  }
}

}  // namespace

ListeningSocket listen_at(const std::string& path, int backlog) {
  const sockaddr_un addr = make_address(path);
  clear_leftover(path, addr);

  FdGuard fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    throw vsp::Error(VSP_E_IO, "unix: socket() failed: " + errno_text(errno));
  }

  // bind() creates the file with mode 0777 & ~umask. Without narrowing the umask there would be
  // an instant between bind and chmod in which anyone could connect and become local admin.
  // 0077 rather than 0177: umask is process-wide, and another thread making a directory in this
  // instant must still get an owner-searchable one.
  const mode_t old_mask = ::umask(0077);
  const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0) {
    const int status = bind_errno == EADDRINUSE ? VSP_E_ADDR_IN_USE
                       : bind_errno == EACCES   ? VSP_E_PERMISSION
                                                : VSP_E_IO;
    throw vsp::Error(status, "unix: cannot bind " + path + ": " + errno_text(bind_errno));
  }
  // Belt and braces, and it drops the execute bit the umask left on.
  if (::chmod(path.c_str(), 0600) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    throw vsp::Error(VSP_E_IO, "unix: cannot chmod 0600 " + path + ": " + errno_text(err));
  }
  if (::listen(fd.get(), backlog) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    throw vsp::Error(VSP_E_IO, "unix: cannot listen on " + path + ": " + errno_text(err));
  }

  ListeningSocket out;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    out.dev = st.st_dev;
    out.ino = st.st_ino;
  }
  out.fd = fd.release();
  return out;
}

void remove_socket_file(const std::string& path, const ListeningSocket& sock) noexcept {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (st.st_dev != sock.dev || st.st_ino != sock.ino) return;
  ::unlink(path.c_str());
}

}  // namespace vespid::unix_transport
