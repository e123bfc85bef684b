// One byte stream for both kinds of peer: a TCP stream with Beast's timeouts, optionally under
// TLS. Decided per connection at run time, so the HTTP and WebSocket code is compiled once
// instead of once per stream type. Satisfies Beast's AsyncStream requirements; the WebSocket
// teardown hooks below let websocket::stream<Stream> close it either way.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace vespid::ws {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

class Stream {
 public:
  using executor_type = beast::tcp_stream::executor_type;
  using tls_stream = net::ssl::stream<beast::tcp_stream>;
  // For beast::get_lowest_layer: the TCP stream, under TLS or not.
  using next_layer_type = beast::tcp_stream;

  // `tls` null: plain TCP. Otherwise the peer speaks TLS (server or client side is chosen by
  // the handshake the owner runs on tls()).
  Stream(tcp::socket socket, net::ssl::context* tls);
  Stream(Stream&&) noexcept = default;
  Stream& operator=(Stream&&) noexcept = default;

  executor_type get_executor() noexcept { return next_layer().get_executor(); }
  beast::tcp_stream& next_layer() noexcept { return tls_ ? tls_->next_layer() : *tcp_; }
  tcp::socket& socket() noexcept { return next_layer().socket(); }
  bool is_tls() const noexcept { return tls_ != nullptr; }
  tls_stream& tls() noexcept { return *tls_; }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      tcp_->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      tcp_->async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

  // Closes the socket at once; pending operations complete with operation_aborted.
  void close() noexcept;

 private:
  std::optional<beast::tcp_stream> tcp_;
  std::unique_ptr<tls_stream> tls_;  // large (OpenSSL state and record buffers): kept aside
};

// "127.0.0.1:5000", "[::1]:5000".
std::string endpoint_text(const tcp::endpoint& ep);

// WebSocket closing handshake hooks, found by argument-dependent lookup.
void teardown(beast::role_type role, Stream& stream, beast::error_code& ec);

template <class TeardownHandler>
void async_teardown(beast::role_type role, Stream& stream, TeardownHandler&& handler) {
  if (stream.is_tls()) {
    boost::beast::async_teardown(role, stream.tls(), std::forward<TeardownHandler>(handler));
  } else {
    boost::beast::async_teardown(role, stream.next_layer(), std::forward<TeardownHandler>(handler));
  }
}

}  // namespace vespid::ws
