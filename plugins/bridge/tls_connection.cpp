#include "tls_connection.hpp"

#include <openssl/err.h>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <climits>

namespace vespid::bridge {

namespace {

using namespace std::chrono_literals;

constexpr auto kHandshakeTimeout = 10000ms;
// Pump rounds per wake-up before yielding to the thread's other connections.
constexpr int kRoundsPerWakeup = 16;

boost::system::error_code last_ssl_error(int ssl_error) {
  const unsigned long e = ::ERR_peek_last_error();
  ::ERR_clear_error();
  if (e != 0) {
    return {static_cast<int>(e), boost::asio::error::get_ssl_category()};
  }
  if (ssl_error == SSL_ERROR_SYSCALL && errno != 0) {
    return {errno, boost::system::system_category()};
  }
  // SSL_ERROR_SYSCALL without an errno: the peer closed TCP without a close_notify.
  return boost::asio::ssl::error::stream_truncated;
}

bool is_eof(const boost::system::error_code& ec) {
  return ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated;
}

}  // namespace

TlsConnection::TlsConnection(const ConnShared& shared, IoThread& io,
                             boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls,
                             std::string peer, std::string local)
    : Connection(shared, io, std::move(peer), std::move(local)), socket_(std::move(socket)) {
  ssl_ = ::SSL_new(tls.native_handle());
  if (ssl_ == nullptr) throw std::bad_alloc();
}

TlsConnection::~TlsConnection() {
  ::SSL_free(ssl_);
}

// ---- The base's requests ---------------------------------------------------------------------

void TlsConnection::stream_start() {
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  if (ec || ::SSL_set_fd(ssl_, socket_.native_handle()) != 1) {
    abandon("cannot set up TLS on the socket");
    return;
  }
  ::SSL_set_accept_state(ssl_);
  arm_timer(kHandshakeTimeout);
  pump();
}

void TlsConnection::stream_read() {
  read_wanted_ = true;
  pump();
}

void TlsConnection::stream_write() {
  write_offset_ = 0;
  write_pending_ = true;
  pump();
}

void TlsConnection::stream_shutdown() {
  if (failed_ || !handshake_done_) {
    on_linger_end();  // after a fatal TLS error there is no close_notify to send
    return;
  }
  notify_pending_ = true;
  pump();
}

void TlsConnection::stream_close() noexcept {
  boost::system::error_code ec;
  socket_.close(ec);
}

// ---- Driving OpenSSL -------------------------------------------------------------------------

bool TlsConnection::blocked(int ret, boost::system::error_code* ec) {
  const int err = ::SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ) {
    needs_readable_ = true;
    return true;
  }
  if (err == SSL_ERROR_WANT_WRITE) {
    needs_writable_ = true;
    return true;
  }
  if (err == SSL_ERROR_ZERO_RETURN) {
    *ec = boost::asio::error::eof;  // the peer's close_notify
  } else {
    if (err == SSL_ERROR_SSL || err == SSL_ERROR_SYSCALL) failed_ = true;
    *ec = last_ssl_error(err);
  }
  return false;
}

void TlsConnection::pump() {
  if (in_pump_) {
    repump_ = true;
    return;
  }
  in_pump_ = true;
  int rounds = 0;
  do {
    repump_ = false;
    needs_readable_ = needs_writable_ = false;
    step();
  } while (repump_ && !finished() && ++rounds < kRoundsPerWakeup);
  in_pump_ = false;
  if (finished()) return;
  if (repump_) {
    // Yield: the thread's other connections get a turn, then this one continues.
    boost::asio::post(io().ctx, [self = self()] {
      if (!self->finished()) self->pump();
    });
    return;
  }
  arm_waits();
}

void TlsConnection::step() {
  if (!handshake_done_) {
    step_handshake();
    return;
  }
  if (write_pending_) step_write();
  if (!finished() && notify_pending_ && !write_pending_) step_close_notify();
  if (!finished() && read_wanted_) step_read();
}

void TlsConnection::step_handshake() {
  ::ERR_clear_error();
  const int r = ::SSL_do_handshake(ssl_);
  if (r == 1) {
    handshake_done_ = true;
    drop_timer();
    opened(VSP_CONN_TLS);  // asks for input: stream_read() sets read_wanted_ and repumps
    return;
  }
  boost::system::error_code ec;
  if (blocked(r, &ec)) return;
  abandon("TLS handshake failed: " + ec.message());
}

void TlsConnection::step_write() {
  const std::string_view out = writing();
  while (write_offset_ < out.size()) {
    const std::size_t left = out.size() - write_offset_;
    ::ERR_clear_error();
    const int n = ::SSL_write(ssl_, out.data() + write_offset_,
                              static_cast<int>(left < INT_MAX ? left : INT_MAX));
    if (n > 0) {
      write_offset_ += static_cast<std::size_t>(n);
      continue;
    }
    boost::system::error_code ec;
    if (blocked(n, &ec)) return;
    write_pending_ = false;
    on_written(ec, 0);
    return;
  }
  write_pending_ = false;
  on_written({}, out.size());  // may queue the next write: stream_write() repumps
}

void TlsConnection::step_close_notify() {
  ::ERR_clear_error();
  const int r = ::SSL_shutdown(ssl_);
  if (r < 0) {
    boost::system::error_code ec;
    if (blocked(r, &ec)) return;
    notify_pending_ = false;
    on_linger_end();  // cannot say goodbye properly; just close
    return;
  }
  // 0: our close_notify is out, the peer's has not come yet; 1: both done.
  notify_pending_ = false;
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  if (r == 1 || peer_eof()) {
    on_linger_end();
    return;
  }
  arm_read();  // read and discard until the peer's close_notify or EOF (or the deadline)
}

void TlsConnection::step_read() {
  std::vector<char>& buf = io().scratch;
  ::ERR_clear_error();
  const int n = ::SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
  if (n > 0) {
    read_wanted_ = false;
    read_settled();
    on_input(buf.data(), static_cast<std::size_t>(n));
    if (finished()) return;
    arm_read();  // wants more: stream_read() sets read_wanted_ and repumps
    return;
  }
  boost::system::error_code ec;
  if (blocked(n, &ec)) return;
  read_wanted_ = false;
  read_settled();
  on_input_end(is_eof(ec), ec);
}

void TlsConnection::arm_waits() {
  // Decrypted input already inside OpenSSL does not make the socket readable.
  if (read_wanted_ && ::SSL_has_pending(ssl_)) {
    boost::asio::post(io().ctx, [self = self()] {
      if (!self->finished()) self->pump();
    });
    return;
  }
  if (needs_readable_ && !wait_readable_armed_) {
    wait_readable_armed_ = true;
    socket_.async_wait(boost::asio::ip::tcp::socket::wait_read,
                       [self = self()](const boost::system::error_code& ec) {
                         self->wait_readable_armed_ = false;
                         if (ec || self->finished()) return;
                         self->pump();
                       });
  }
  if (needs_writable_ && !wait_writable_armed_) {
    wait_writable_armed_ = true;
    socket_.async_wait(boost::asio::ip::tcp::socket::wait_write,
                       [self = self()](const boost::system::error_code& ec) {
                         self->wait_writable_armed_ = false;
                         if (ec || self->finished()) return;
                         self->pump();
                       });
  }
}

}  // namespace vespid::bridge
