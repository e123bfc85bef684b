#include "tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <new>

namespace vespid::ws {

namespace tls_detail {

namespace {

// The error a failed OpenSSL call leaves (the error queue is cleared). `ssl_error` is
// SSL_get_error's answer, `saved_errno` errno right after the call.
beast::error_code last_error(int ssl_error, int saved_errno) {
  const unsigned long e = ::ERR_peek_last_error();
  ::ERR_clear_error();
  if (e != 0) {
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
    // OpenSSL 3: the peer closed TCP without a close_notify.
    if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      return net::ssl::error::stream_truncated;
    }
#endif
    return {static_cast<int>(e), net::error::get_ssl_category()};
  }
  if (ssl_error == SSL_ERROR_SYSCALL && saved_errno != 0) {
    return {saved_errno, boost::system::system_category()};
  }
  if (ssl_error == SSL_ERROR_SYSCALL) {
    return net::ssl::error::stream_truncated;  // OpenSSL 1.1: EOF without a close_notify
  }
  return {ssl_error, net::error::get_ssl_category()};
}

// OpenSSL's socket BIO writes with write(), which raises SIGPIPE once the peer is gone; the
// host may not ignore SIGPIPE (the gateway does, a test host need not), and asio's own sends
// never raise it. So the socket BIO with one change: send(MSG_NOSIGNAL).
int write_without_sigpipe(BIO* bio, const char* data, int size) {
  const int fd = static_cast<int>(BIO_get_fd(bio, nullptr));
  errno = 0;
  const ssize_t n = ::send(fd, data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
  BIO_clear_retry_flags(bio);
  if (n <= 0 && BIO_sock_should_retry(static_cast<int>(n))) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

// Made once, kept for the life of the process (shared by every connection).
const BIO_METHOD* socket_method() {
  static const BIO_METHOD* const method = [] {
    const BIO_METHOD* base = ::BIO_s_socket();
    BIO_METHOD* m = ::BIO_meth_new(BIO_TYPE_SOCKET, "socket without SIGPIPE");
    if (m == nullptr || ::BIO_meth_set_write(m, write_without_sigpipe) != 1 ||
        ::BIO_meth_set_read(m, ::BIO_meth_get_read(base)) != 1 ||
        ::BIO_meth_set_puts(m, ::BIO_meth_get_puts(base)) != 1 ||
        ::BIO_meth_set_ctrl(m, ::BIO_meth_get_ctrl(base)) != 1 ||
        ::BIO_meth_set_create(m, ::BIO_meth_get_create(base)) != 1 ||
        ::BIO_meth_set_destroy(m, ::BIO_meth_get_destroy(base)) != 1) {
      ::BIO_meth_free(m);
      return static_cast<BIO_METHOD*>(nullptr);
    }
    return m;
  }();
  return method;
}

}  // namespace

Core::Core(Socket s, SSL_CTX* ctx) : socket(std::move(s)), ssl(::SSL_new(ctx)) {
  if (ssl == nullptr) {
    ::ERR_clear_error();
    throw std::bad_alloc();
  }
  // No record buffers while idle, whatever the context says (the test clients' contexts too);
  // WriteStep may present the same bytes again from another address.
  ::SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

Core::~Core() {
  // The socket BIO does not own the descriptor: the socket closes it.
  ::SSL_free(ssl);
}

bool Core::socket_usable(beast::error_code& ec) {
  // A closed socket's descriptor number may already belong to another connection: OpenSSL,
  // which only knows the number, must not touch it.
  if (!socket.is_open() || socket.native_handle() != fd_) {
    ec = timed_out_ ? beast::error_code(beast::error::timeout) : net::error::bad_descriptor;
    return false;
  }
  return true;
}

bool Core::bind_socket(beast::error_code& ec) {
  if (!socket.is_open()) {
    ec = net::error::bad_descriptor;
    return false;
  }
  // The descriptor is non-blocking for OpenSSL; asio still emulates blocking calls on it.
  socket.native_non_blocking(true, ec);
  if (ec) return false;
  ::ERR_clear_error();
  // What SSL_set_fd does, with the BIO above; the BIO does not own the descriptor.
  const BIO_METHOD* method = socket_method();
  BIO* bio = method != nullptr ? ::BIO_new(method) : nullptr;
  if (bio == nullptr) {
    ec = last_error(SSL_ERROR_SSL, 0);
    return false;
  }
  BIO_set_fd(bio, socket.native_handle(), BIO_NOCLOSE);
  ::SSL_set_bio(ssl, bio, bio);  // the SSL object owns it now
  fd_ = socket.native_handle();
  return true;
}

Want Core::blocked(int ret, beast::error_code& ec) {
  const int saved_errno = errno;
  const int err = ::SSL_get_error(ssl, ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      return Want::readable;
    case SSL_ERROR_WANT_WRITE:
      return Want::writable;
    case SSL_ERROR_ZERO_RETURN:
      ec = net::error::eof;  // the peer's close_notify; reading again says the same
      return Want::nothing;
    default:
      break;
  }
  ec = last_error(err, saved_errno);
  phase_ = Phase::failed;
  failure_ = ec;
  return Want::nothing;
}

Want Core::handshake(Role role, beast::error_code& ec) {
  if (phase_ == Phase::fresh) {
    if (!bind_socket(ec)) {
      phase_ = Phase::failed;
      failure_ = ec;
      return Want::nothing;
    }
    if (role == Role::server) {
      ::SSL_set_accept_state(ssl);
    } else {
      ::SSL_set_connect_state(ssl);
    }
    phase_ = Phase::handshaking;
  } else if (phase_ == Phase::failed) {
    ec = failure_;
    return Want::nothing;
  } else if (phase_ != Phase::handshaking) {
    ec = net::error::already_connected;
    return Want::nothing;
  }
  if (!socket_usable(ec)) return Want::nothing;
  ::ERR_clear_error();
  const int r = ::SSL_do_handshake(ssl);
  if (r == 1) {
    phase_ = Phase::open;
    return Want::nothing;
  }
  return blocked(r, ec);
}

Want Core::read(net::mutable_buffer buffer, std::size_t& n, beast::error_code& ec) {
  n = 0;
  if (phase_ == Phase::failed) {
    ec = failure_;
    return Want::nothing;
  }
  if (phase_ != Phase::open && phase_ != Phase::closing) {
    ec = net::error::not_connected;
    return Want::nothing;
  }
  if (buffer.size() == 0 || !socket_usable(ec)) return Want::nothing;
  ::ERR_clear_error();
  const int r = ::SSL_read_ex(ssl, buffer.data(), buffer.size(), &n);
  if (r == 1) return Want::nothing;
  n = 0;
  return blocked(r, ec);
}

Want Core::write(net::const_buffer buffer, std::size_t& n, beast::error_code& ec) {
  n = 0;
  if (phase_ == Phase::failed) {
    ec = failure_;
    return Want::nothing;
  }
  if (phase_ == Phase::closing) {
    ec = net::error::shut_down;  // OpenSSL would fail the session for it
    return Want::nothing;
  }
  if (phase_ != Phase::open) {
    ec = net::error::not_connected;
    return Want::nothing;
  }
  if (buffer.size() == 0 || !socket_usable(ec)) return Want::nothing;
  ::ERR_clear_error();
  // Not in partial-write mode: done means every byte is in the socket; a WANT_WRITE in between
  // is retried with the same bytes.
  const int r = ::SSL_write_ex(ssl, buffer.data(), buffer.size(), &n);
  if (r == 1) return Want::nothing;
  n = 0;
  return blocked(r, ec);
}

Want Core::shutdown(beast::error_code& ec) {
  switch (phase_) {
    case Phase::fresh:
    case Phase::handshaking:
    case Phase::closing:
      return Want::nothing;  // no session to close, or our close_notify is already out
    case Phase::failed:
      ec = failure_;
      return Want::nothing;
    case Phase::open:
      break;
  }
  if (!socket_usable(ec)) return Want::nothing;
  ::ERR_clear_error();
  // 0: our close_notify is out (the peer's has not come); 1: both are. A retry after
  // WANT_WRITE only flushes the alert, it does not read.
  const int r = ::SSL_shutdown(ssl);
  if (r >= 0) {
    phase_ = Phase::closing;
    return Want::nothing;
  }
  return blocked(r, ec);
}

void Core::begin_wait() {
  if (waits_++ == 0) arm_timer();
}

void Core::end_wait(beast::error_code& ec) {
  if (--waits_ == 0) disarm_timer();
  if (timed_out_ && ec == net::error::operation_aborted) ec = beast::error::timeout;
}

void Core::expires_at(std::chrono::steady_clock::time_point deadline) {
  deadline_ = deadline;
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    timer_.reset();  // no deadline, no Deadline: an open connection keeps none
    return;
  }
  if (waits_ == 0) return;
  disarm_timer();
  arm_timer();
}

void Core::arm_timer() {
  if (deadline_ == std::chrono::steady_clock::time_point::max()) return;
  if (!timer_) timer_ = std::make_unique<Deadline>(socket.get_executor(), &on_deadline, this);
  timer_->expires_at(deadline_);
}

void Core::on_deadline(void* core) {
  const std::shared_ptr<Core> self = static_cast<Core*>(core)->shared_from_this();
  if (self->waits_ == 0) return;
  // Like tcp_stream: the socket is closed, the waits end with operation_aborted, and end_wait
  // reports beast::error::timeout.
  self->timed_out_ = true;
  beast::error_code ignored;
  self->socket.close(ignored);
}

void Core::disarm_timer() {
  if (timer_) timer_->cancel();
}

beast::error_code Core::set_host_name(const std::string& name) {
  ::ERR_clear_error();
  // Verification stays on whatever the context says: a host name is only worth checking on a
  // verified certificate.
  ::SSL_set_verify(ssl, ::SSL_get_verify_mode(ssl) | SSL_VERIFY_PEER,
                   ::SSL_get_verify_callback(ssl));
  beast::error_code not_address;
  net::ip::make_address(name, not_address);
  if (!not_address) {
    // An IP address is checked against the certificate's address entries; SNI carries names
    // only (RFC 6066).
    if (::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(ssl), name.c_str()) != 1) {
      return last_error(SSL_ERROR_SSL, 0);
    }
    return {};
  }
  if (::SSL_set_tlsext_host_name(ssl, name.c_str()) != 1 ||
      ::SSL_set1_host(ssl, name.c_str()) != 1) {
    return last_error(SSL_ERROR_SSL, 0);
  }
  return {};
}

}  // namespace tls_detail

TlsStream::TlsStream(Socket socket, net::ssl::context& ctx)
    : core_(std::make_shared<tls_detail::Core>(std::move(socket), ctx.native_handle())) {}

void TlsStream::shutdown(beast::error_code& ec) {
  for (;;) {
    const tls_detail::Want want = core_->shutdown(ec);
    if (want == tls_detail::Want::nothing) return;
    core_->socket.wait(want == tls_detail::Want::readable ? Socket::wait_read : Socket::wait_write,
                       ec);
    if (ec) return;
  }
}

}  // namespace vespid::ws
