// One byte stream for both kinds of peer: a TCP stream with Beast's timeouts, optionally under
// TLS (TlsStream: OpenSSL straight on the socket). Decided per connection at run time, so the
// HTTP and WebSocket code is compiled once instead of once per stream type. Satisfies Beast's
// AsyncStream requirements; the WebSocket teardown hooks below let websocket::stream<Stream>
// close it either way.
//
// Deadlines go through expires_after / expires_never here: the plain side keeps them in its
// beast::tcp_stream, TlsStream keeps its own. The next layer is the socket in both cases.
#pragma once

#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <variant>

#include "tls_stream.hpp"

namespace vespid::ws {

class Stream {
 public:
  using executor_type = Socket::executor_type;
  using tls_stream = TlsStream;
  // For beast::get_lowest_layer: the socket, under TLS or not (Beast's WebSocket timeouts close
  // it).
  using next_layer_type = Socket;
  // The plain side: Beast's TCP stream (its own deadlines) on the same socket type.
  using Tcp = beast::basic_stream<tcp, Socket::executor_type>;

  // `tls` null: plain TCP. Otherwise the peer speaks TLS (server or client side is chosen by
  // the handshake the owner runs on tls()); the context must outlive the stream.
  Stream(Socket socket, net::ssl::context* tls);
  Stream(Stream&&) noexcept = default;
  Stream& operator=(Stream&&) = delete;  // beast::tcp_stream cannot be move-assigned

  executor_type get_executor() noexcept { return next_layer().get_executor(); }
  Socket& next_layer() noexcept {
    if (Tcp* plain = std::get_if<Tcp>(&s_)) return plain->socket();
    return std::get<TlsStream>(s_).next_layer();
  }
  Socket& socket() noexcept { return next_layer(); }
  bool is_tls() const noexcept { return std::holds_alternative<TlsStream>(s_); }
  tls_stream& tls() noexcept { return *std::get_if<TlsStream>(&s_); }

  // A peer that stalls past the deadline is cut off: the socket is closed and what is pending
  // completes with beast::error::timeout.
  void expires_after(std::chrono::steady_clock::duration d);
  void expires_never();

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (Tcp* plain = std::get_if<Tcp>(&s_)) {
      plain->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      tls().async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (Tcp* plain = std::get_if<Tcp>(&s_)) {
      plain->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      tls().async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

  // Closes the socket at once; pending operations complete with operation_aborted.
  void close() noexcept;

 private:
  // One or the other (each a handle: its state is kept aside), chosen at construction.
  std::variant<Tcp, TlsStream> s_;
};

// "127.0.0.1:5000", "[::1]:5000".
std::string endpoint_text(const tcp::endpoint& ep);

// WebSocket closing handshake hooks, found by argument-dependent lookup. Under TLS: our
// close_notify, then the TCP teardown (a server half-closes, then both sides read until the
// peer's EOF and close).
void teardown(beast::role_type role, Stream& stream, beast::error_code& ec);

namespace stream_detail {

struct TlsTeardown {
  TlsStream& tls;
  beast::role_type role;
  int step = 0;
  beast::error_code shutdown_ec;

  template <class Self>
  void operator()(Self& self, beast::error_code ec = {}) {
    switch (step) {
      case 0:
        step = 1;
        tls.async_shutdown(std::move(self));
        return;
      case 1:
        step = 2;
        shutdown_ec = ec;
        beast::websocket::async_teardown(role, tls.next_layer(), std::move(self));
        return;
      default:
        self.complete(shutdown_ec ? shutdown_ec : ec);
    }
  }
};

}  // namespace stream_detail

template <class TeardownHandler>
void async_teardown(beast::role_type role, Stream& stream, TeardownHandler&& handler) {
  if (stream.is_tls()) {
    // Never completes inline: the first step is TlsStream's shutdown, which posts.
    net::async_compose<TeardownHandler, void(beast::error_code)>(
        stream_detail::TlsTeardown{stream.tls(), role}, handler, stream);
  } else {
    beast::websocket::async_teardown(role, stream.socket(), std::forward<TeardownHandler>(handler));
  }
}

}  // namespace vespid::ws
