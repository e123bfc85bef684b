#include "plain_connection.hpp"

#include <boost/asio/write.hpp>

namespace vespid::bridge {

namespace {
// Reads per readiness wake-up before yielding to the thread's other connections.
constexpr int kReadsPerWakeup = 16;
}  // namespace

PlainConnection::PlainConnection(const ConnShared& shared, IoThread& io,
                                 boost::asio::ip::tcp::socket socket, std::string peer,
                                 std::string local)
    : Connection(shared, io, std::move(peer), std::move(local)),
      socket_(std::move(socket)),
      fd_(socket_.native_handle()) {}

void PlainConnection::stream_start() {
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);  // synchronous reads report would_block instead of waiting
  if (ec) {
    abandon("cannot make the socket non-blocking: " + ec.message());
    return;
  }
  opened(0);
}

void PlainConnection::stream_read() {
  socket_.async_wait(
      boost::asio::ip::tcp::socket::wait_read,
      [self = self()](const boost::system::error_code& ec) { self->on_readable(ec); });
}

void PlainConnection::on_readable(const boost::system::error_code& wait_ec) {
  read_settled();
  if (finished() || wait_ec == boost::asio::error::operation_aborted) return;
  if (wait_ec) {
    on_input_end(false, wait_ec);
    return;
  }
  std::vector<char>& buf = io().scratch;
  for (int i = 0; i < kReadsPerWakeup; ++i) {
    boost::system::error_code ec;
    const std::size_t n = socket_.read_some(boost::asio::buffer(buf), ec);
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) break;
    if (ec == boost::asio::error::interrupted) continue;
    if (ec) {
      on_input_end(ec == boost::asio::error::eof, ec);
      return;
    }
    on_input(buf.data(), n);
    if (finished()) return;
    if (n < buf.size()) break;  // drained for now
  }
  arm_read();  // no-op when input stopped (oversized line) or the connection is done reading
}

void PlainConnection::stream_write() {
  const std::string_view out = writing();
  boost::asio::async_write(socket_, boost::asio::buffer(out.data(), out.size()),
                           [self = self()](const boost::system::error_code& ec, std::size_t n) {
                             self->on_written(ec, n);
                           });
}

void PlainConnection::stream_shutdown() {
  boost::system::error_code ec;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
  if (ec || peer_eof()) {
    on_linger_end();  // the peer is gone or has closed already: nothing to wait for
    return;
  }
  arm_read();  // read and discard until the peer's EOF (or the linger deadline)
}

void PlainConnection::stream_close() noexcept {
  boost::system::error_code ec;
  socket_.close(ec);
}

}  // namespace vespid::bridge
