#include "tls_connection.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

namespace vespid::bridge {

namespace {

using namespace std::chrono_literals;

constexpr auto kHandshakeTimeout = 10000ms;
constexpr std::size_t kReadBytes = 4096;

bool is_eof(const boost::system::error_code& ec) {
  // A close_notify reads as eof; a TCP close without it as stream_truncated. Either way the
  // peer will send nothing more.
  return ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated;
}

}  // namespace

TlsConnection::TlsConnection(const ConnShared& shared, IoThread& io,
                             boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls,
                             std::string peer, std::string local)
    : Connection(shared, io, std::move(peer), std::move(local)), stream_(std::move(socket), tls) {}

void TlsConnection::stream_start() {
  arm_timer(kHandshakeTimeout);
  stream_.async_handshake(boost::asio::ssl::stream_base::server,
                          [self = self()](const boost::system::error_code& ec) {
                            if (self->finished()) return;
                            if (ec) {
                              self->abandon("TLS handshake failed: " + ec.message());
                              return;
                            }
                            self->drop_timer();
                            self->opened(VSP_CONN_TLS);
                          });
}

void TlsConnection::stream_read() {
  if (!rbuf_) rbuf_ = std::make_unique<char[]>(kReadBytes);
  stream_.async_read_some(boost::asio::buffer(rbuf_.get(), kReadBytes),
                          [self = self()](const boost::system::error_code& ec, std::size_t n) {
                            self->on_read(ec, n);
                          });
}

void TlsConnection::on_read(const boost::system::error_code& ec, std::size_t n) {
  read_settled();
  if (finished()) return;
  if (shutdown_waits_for_read_) {
    send_close_notify();  // our read was cancelled (or raced in): the shutdown reads from here
    return;
  }
  if (ec == boost::asio::error::operation_aborted) return;
  if (n > 0) {
    on_input(rbuf_.get(), n);
    if (finished()) return;
  }
  if (ec) {
    on_input_end(is_eof(ec), ec);
    return;
  }
  arm_read();
}

void TlsConnection::stream_write() {
  boost::asio::async_write(stream_, boost::asio::buffer(writing_),
                           [self = self()](const boost::system::error_code& ec, std::size_t n) {
                             self->on_written(ec, n);
                           });
}

void TlsConnection::stream_shutdown() {
  if (read_armed()) {
    // One reader at a time on the stream: stop ours, then let the shutdown read.
    shutdown_waits_for_read_ = true;
    boost::system::error_code ec;
    stream_.lowest_layer().cancel(ec);
    return;
  }
  send_close_notify();
}

void TlsConnection::send_close_notify() {
  shutdown_waits_for_read_ = false;
  rbuf_.reset();  // no read of ours is pending any more
  // Sends close_notify, then reads (discarding) until the peer's close_notify or EOF; the
  // linger deadline closes the socket if the peer does neither.
  stream_.async_shutdown(
      [self = self()](const boost::system::error_code&) { self->on_linger_end(); });
}

void TlsConnection::stream_close() noexcept {
  boost::system::error_code ec;
  stream_.lowest_layer().close(ec);
}

}  // namespace vespid::bridge
