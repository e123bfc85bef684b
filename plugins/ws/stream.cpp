#include "stream.hpp"

namespace vespid::ws {

namespace {

std::variant<Stream::Tcp, TlsStream> make(Socket socket, net::ssl::context* tls) {
  if (tls != nullptr) return TlsStream(std::move(socket), *tls);
  return Stream::Tcp(std::move(socket));
}

}  // namespace

Stream::Stream(Socket socket, net::ssl::context* tls) : s_(make(std::move(socket), tls)) {}

void Stream::expires_after(std::chrono::steady_clock::duration d) {
  if (Tcp* plain = std::get_if<Tcp>(&s_)) {
    plain->expires_after(d);
  } else {
    tls().expires_after(d);
  }
}

void Stream::expires_never() {
  if (Tcp* plain = std::get_if<Tcp>(&s_)) {
    plain->expires_never();
  } else {
    tls().expires_never();
  }
}

void Stream::close() noexcept {
  beast::error_code ec;
  socket().close(ec);
}

std::string endpoint_text(const tcp::endpoint& ep) {
  const auto addr = ep.address();
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

void teardown(beast::role_type role, Stream& stream, beast::error_code& ec) {
  if (stream.is_tls()) {
    stream.tls().shutdown(ec);
    beast::error_code tcp_ec;
    beast::websocket::teardown(role, stream.socket(), ec ? tcp_ec : ec);
  } else {
    beast::websocket::teardown(role, stream.socket(), ec);
  }
}

}  // namespace vespid::ws
