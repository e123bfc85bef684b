#include "net_util.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <system_error>

namespace vespid::bridge {

namespace {
constexpr int kKeepIdleSeconds = 60;
constexpr int kKeepIntervalSeconds = 10;
constexpr int kKeepProbes = 3;
}  // namespace

std::string format_endpoint(const boost::asio::ip::tcp::endpoint& ep) {
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6());
  }
  const std::string port = std::to_string(ep.port());
  // Appended piece by piece: GCC 12 at -O2 and above warns (-Wrestrict, a false positive)
  // about "[" + std::string.
  std::string out;
  if (addr.is_v6()) out.push_back('[');
  out.append(addr.to_string());
  if (addr.is_v6()) out.push_back(']');
  out.push_back(':');
  out.append(port);
  return out;
}

std::string tune_accepted_socket(boost::asio::ip::tcp::socket& s, bool keepalive) {
  boost::system::error_code ec;
  s.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  if (ec) return "TCP_NODELAY: " + ec.message();
  if (!keepalive) return {};
  s.set_option(boost::asio::socket_base::keep_alive(true), ec);
  if (ec) return "SO_KEEPALIVE: " + ec.message();
  const int fd = s.native_handle();
  if (::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &kKeepIdleSeconds, sizeof(int)) != 0 ||
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &kKeepIntervalSeconds, sizeof(int)) != 0 ||
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &kKeepProbes, sizeof(int)) != 0) {
    return "TCP keepalive timings: " + std::system_category().message(errno);
  }
  return {};
}

}  // namespace vespid::bridge
