#include "probe.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config.hpp"

namespace vespid::natsbus {
namespace {

std::string port_of(const std::string& url) {
  auto start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  std::string rest = url.substr(start);
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (auto close = rest.find(']'); close != std::string::npos) rest = rest.substr(close + 1);
  const auto colon = rest.find(':');
  if (colon == std::string::npos) return "4222";
  return rest.substr(colon + 1, rest.find('/', colon) - colon - 1);
}

// One connect attempt with a deadline: 0 on success, else errno (ETIMEDOUT for the deadline).
int connect_within(const addrinfo& ai, std::chrono::milliseconds timeout) {
  const int fd =
      ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) return errno;
  int err = 0;
  if (::connect(fd, ai.ai_addr, ai.ai_addrlen) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
      socklen_t len = sizeof err;
      if (n == 0) {
        err = ETIMEDOUT;
      } else if (n < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
      }
    }
  }
  ::close(fd);
  return err;
}

}  // namespace

std::optional<std::string> tcp_probe(const std::string& url, std::chrono::milliseconds timeout) {
  const std::string host = url_host(url);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), port_of(url).c_str(), &hints, &found);
  if (rc != 0) return "cannot resolve \"" + host + "\": " + ::gai_strerror(rc);
  int err = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    err = connect_within(*ai, timeout);
    if (err == 0) break;
  }
  ::freeaddrinfo(found);
  if (err == 0) return std::nullopt;
  if (err == ETIMEDOUT) return "no answer within " + std::to_string(timeout.count()) + " ms";
  return std::strerror(err);
}

}  // namespace vespid::natsbus
