#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>

#include "gateway_process.hpp"

namespace vespid::test {

namespace {

// Whether 127.0.0.1:`port` can be bound right now (0: the kernel picks; `port` gets its choice).
bool bindable(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (ok) port = ntohs(addr.sin_port);
  return ok;
}

// The lowest port the kernel hands out for outgoing connections (and for bind to port 0).
int ephemeral_low() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0, high = 0;
  if (range >> low >> high) return low;
  return 32768;
}

}  // namespace

// A port below the kernel's ephemeral range, so that no outgoing connection of a test running
// alongside (a gateway dialling PostgreSQL or nats-server, a client) can be given it between
// this pick and the bind that uses it: a port from bind(0) is exactly the one the kernel offers
// the next such connection, which made "Address already in use" a race with parallel suites.
// Chosen at random (tests in other processes pick too), never the same twice in one process,
// and checked free now.
int pick_free_port() {
  static std::mutex mu;
  static std::set<int> given;
  static std::mt19937 rng{std::random_device{}()};
  std::lock_guard lock(mu);
  const int high = ephemeral_low() - 1;
  constexpr int kLow = 10000;
  if (high > kLow + 1000) {
    std::uniform_int_distribution<int> pick(kLow, high);
    for (int attempt = 0; attempt < 200; ++attempt) {
      int port = pick(rng);
      if (given.count(port) != 0 || !bindable(port)) continue;
      given.insert(port);
      return port;
    }
  }
  // No room below the ephemeral range (or all of it taken): the kernel's choice.
  int port = 0;
  if (!bindable(port)) {
    throw std::runtime_error(std::string("cannot find a free port: ") + std::strerror(errno));
  }
  given.insert(port);
  return port;
}

}  // namespace vespid::test
