#include "cut_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vespid::storage_test::postgres {
namespace {

constexpr std::string_view kCommit("COMMIT\0", 7);

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

CutProxy::CutProxy(int upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    throw std::runtime_error(std::string("cut proxy: cannot listen: ") + std::strerror(errno));
  }
  port_ = ntohs(a.sin_port);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this] { run(); });
}

CutProxy::~CutProxy() {
  const uint64_t one = 1;
  (void)!::write(stop_fd_, &one, sizeof one);
  thread_.join();
  for (Pair& p : pairs_) close_pair(p);
  ::close(listen_fd_);
  ::close(stop_fd_);
}

void CutProxy::arm(Cut cut, bool refuse_after) {
  std::lock_guard lock(mu_);
  armed_ = true;
  cut_ = cut;
  refuse_after_ = refuse_after;
}

void CutProxy::close_pair(Pair& p) {
  if (p.client >= 0) ::close(p.client);
  if (p.server >= 0) ::close(p.server);
  p.client = p.server = -1;
}

void CutProxy::run() {
  std::vector<char> buf(1 << 16);
  while (true) {
    pairs_.erase(
        std::remove_if(pairs_.begin(), pairs_.end(), [](const Pair& p) { return p.client < 0; }),
        pairs_.end());
    std::vector<pollfd> fds = {{stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const Pair& p : pairs_) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.server, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) return;
    // Only the pairs that were polled; a pair accepted below waits for the next turn.
    const size_t polled = pairs_.size();
    for (size_t i = 0; i < polled; ++i) {
      Pair& p = pairs_[i];
      for (int side = 0; side < 2 && p.client >= 0; ++side) {
        const pollfd& f = fds[2 + 2 * i + static_cast<size_t>(side)];
        if (f.revents == 0) continue;
        const ssize_t n = ::recv(f.fd, buf.data(), buf.size(), 0);
        if (n <= 0) {
          close_pair(p);
          break;
        }
        const std::string_view chunk(buf.data(), static_cast<size_t>(n));
        const bool from_client = side == 0;
        if (!from_client && p.cut_on_answer) {
          close_pair(p);  // the server's answer to COMMIT: swallowed
          break;
        }
        if (from_client && chunk.find(kCommit) != std::string_view::npos) {
          std::lock_guard lock(mu_);
          if (armed_) {
            armed_ = false;
            fired_ = true;
            refusing_ = refuse_after_;
            if (cut_ == Cut::swallow_commit) {
              close_pair(p);
              break;
            }
            p.cut_on_answer = true;
          }
        }
        if (!write_all(from_client ? p.server : p.client, chunk.data(), chunk.size())) {
          close_pair(p);
          break;
        }
      }
    }
    if (fds[1].revents != 0) {
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0 && refusing_) {
        ::close(client);
      } else if (client >= 0) {
        const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a = loopback(upstream_port_);
        if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
          ::close(server);
          ::close(client);
        } else {
          pairs_.push_back({client, server, false});
        }
      }
    }
  }
}

}  // namespace vespid::storage_test::postgres
