// TLS for the ws plugin's connections without Asio's ssl::stream. OpenSSL runs directly on the
// non-blocking socket (a socket BIO on its descriptor, writing with MSG_NOSIGNAL so that a
// vanished peer is EPIPE and not a SIGPIPE), as in the bridge plugin, and readiness
// waits on the socket (async_wait) drive it whenever OpenSSL wants to read or write. There are no
// intermediate record buffers, and with SSL_MODE_RELEASE_BUFFERS an idle connection keeps only
// OpenSSL's per-connection state; ssl::stream keeps two 17 KiB record buffers and a BIO pair of two
// more per connection, whatever the connection does.
//
// A Beast AsyncReadStream and AsyncWriteStream: any completion token, the stream's executor unless
// the handler has its own, and a handler is never invoked from inside the initiating function (an
// operation that ends at once posts its handler).
//
// Threads: a TlsStream and every operation on it belong to the one thread that runs the
// connection (the ws plugin's I/O thread; a test peer's private thread); nothing here locks. At
// most one read, one write and one handshake or shutdown are outstanding, as on any asio stream;
// Beast's WebSocket keeps a read and a write outstanding together. OpenSSL allows that for one SSL
// object when the calls do not overlap, which on one thread they cannot: each operation retries
// its own OpenSSL call after the readiness that call asked for (SSL_read may want the socket
// writable, to answer a TLS 1.3 KeyUpdate; SSL_write would want it readable only during a
// renegotiation, which the server refuses), and no call but SSL_read takes application data off
// the socket, so a read waiting for readability never misses input that OpenSSL already holds.
// A shutdown is started once writes are done (Beast's teardown and linger_close do so).
//
// Deadlines: readiness waits on a socket know nothing of beast::tcp_stream's expiry, so there is
// no tcp_stream here (its expiry would silently cover nothing) and the stream keeps its own
// (expires_after / expires_never): while any readiness wait is outstanding a timer runs to the
// deadline, and when it passes the socket is closed and every pending operation completes with
// beast::error::timeout, as with tcp_stream. The deadline is absolute: setting it applies to the
// waits outstanding and to later ones.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/async_base.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "deadline_queue.hpp"

namespace vespid::ws {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

// Every socket of this plugin runs on an io_context of its own thread, so its executor is that
// io_context's and not Asio's type-erased any_io_executor: 48 bytes less in each socket, and in
// every operation pending on it (an idle connection always has its readiness wait).
using Socket = net::basic_stream_socket<tcp, net::io_context::executor_type>;

namespace tls_detail {

// What an OpenSSL call is blocked on, or nothing when it is done (successfully or not).
enum class Want { nothing, readable, writable };

enum class Role { client, server };

// One connection's TLS state, shared: TlsStream holds it, and its deadline's expiry holds it while
// closing the socket. Operations refer to it plainly: like any asio stream, it outlives the
// operations on it.
class Core : public std::enable_shared_from_this<Core> {
 public:
  // Where the session is: every operation checks it before calling OpenSSL.
  enum class Phase {
    fresh,        // no handshake yet; the socket may still be connecting
    handshaking,  // bound to the socket's descriptor, SSL_do_handshake under way
    open,         // application data both ways
    closing,      // our close_notify is out: reads go on, writes are refused
    failed,       // a fatal TLS or socket error: OpenSSL must not be called again
  };

  Core(Socket socket, SSL_CTX* ctx);
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // One attempt each; `ec` is set when the result is Want::nothing and the call failed.
  Want handshake(Role role, beast::error_code& ec);
  Want read(net::mutable_buffer buffer, std::size_t& n, beast::error_code& ec);
  Want write(net::const_buffer buffer, std::size_t& n, beast::error_code& ec);
  Want shutdown(beast::error_code& ec);

  // Around every readiness wait: the deadline timer runs while at least one is outstanding;
  // end_wait turns the wait's operation_aborted into beast::error::timeout after a deadline.
  void begin_wait();
  void end_wait(beast::error_code& ec);
  void expires_at(std::chrono::steady_clock::time_point deadline);

  beast::error_code set_host_name(const std::string& name);

  Socket socket;
  SSL* const ssl;

 private:
  bool socket_usable(beast::error_code& ec);
  bool bind_socket(beast::error_code& ec);
  Want blocked(int ret, beast::error_code& ec);
  void arm_timer();
  void disarm_timer();
  static void on_deadline(void* core);

  // Armed to deadline_ while a readiness wait is outstanding; made with the first finite deadline
  // and dropped with expires_never (an open connection keeps none).
  std::unique_ptr<Deadline> timer_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  beast::error_code failure_;  // what put the session in Phase::failed
  int fd_ = -1;                // the descriptor OpenSSL was given (a closed socket's may be reused)
  unsigned waits_ = 0;         // readiness waits outstanding
  Phase phase_ = Phase::fresh;
  bool timed_out_ = false;
};

// The buffer an operation works on: the sequence's first non-empty one (as asio's streams do).
template <class Buffer, class Buffers>
Buffer first_buffer(const Buffers& buffers) {
  for (auto it = net::buffer_sequence_begin(buffers), end = net::buffer_sequence_end(buffers);
       it != end; ++it) {
    Buffer b(*it);
    if (b.size() != 0) return b;
  }
  return Buffer();
}

struct HandshakeStep {
  static constexpr bool sized = false;
  Role role;
  Want operator()(Core& core, std::size_t&, beast::error_code& ec) const {
    return core.handshake(role, ec);
  }
};

struct ReadStep {
  static constexpr bool sized = true;
  net::mutable_buffer buffer;
  Want operator()(Core& core, std::size_t& n, beast::error_code& ec) const {
    return core.read(buffer, n, ec);
  }
};

// The plaintext one TLS record carries.
constexpr std::size_t kRecordBytes = 16 * 1024;

template <class ConstBuffers>
struct WriteStep {
  static constexpr bool sized = true;
  ConstBuffers buffers;
  Want operator()(Core& core, std::size_t& n, beast::error_code& ec) const {
    net::const_buffer out = first_buffer<net::const_buffer>(buffers);
    // A short first buffer (a WebSocket frame header, an HTTP header) is sent in one record
    // with what follows it instead of in a record of its own. A retry after WANT_WRITE gathers
    // the same bytes again (the sequence is unchanged), which SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
    // allows.
    std::array<unsigned char, kRecordBytes> gathered;
    if (out.size() < kRecordBytes && net::buffer_size(buffers) > out.size()) {
      out = net::const_buffer(gathered.data(), net::buffer_copy(net::buffer(gathered), buffers));
    }
    return core.write(out, n, ec);
  }
};

struct ShutdownStep {
  static constexpr bool sized = false;
  Want operator()(Core& core, std::size_t&, beast::error_code& ec) const {
    return core.shutdown(ec);
  }
};

// One operation: try the OpenSSL call; when it blocks, wait for the readiness it asked for and
// try again; complete when it is done or failed (posted if that happens before any wait).
template <class Step, class Handler>
class Op : public beast::async_base<Handler, Socket::executor_type> {
  using base = beast::async_base<Handler, Socket::executor_type>;

 public:
  template <class H>
  Op(H&& handler, Core& core, Step step)
      : base(std::forward<H>(handler), core.socket.get_executor()),
        core_(core),
        step_(std::move(step)) {
    (*this)({}, false);
  }
  Op(Op&&) = default;

  void operator()(beast::error_code ec = {}, bool is_continuation = true) {
    if (waiting_) {
      waiting_ = false;
      core_.end_wait(ec);
      if (ec) {
        finish(is_continuation, ec, 0);
        return;
      }
    }
    std::size_t n = 0;
    const Want want = step_(core_, n, ec);
    if (want == Want::nothing) {
      finish(is_continuation, ec, n);
      return;
    }
    waiting_ = true;
    core_.begin_wait();
    core_.socket.async_wait(want == Want::readable ? Socket::wait_read : Socket::wait_write,
                            std::move(*this));
  }

 private:
  void finish(bool is_continuation, beast::error_code ec, std::size_t n) {
    if constexpr (Step::sized) {
      this->complete(is_continuation, ec, n);
    } else {
      (void)n;
      this->complete(is_continuation, ec);
    }
  }

  Core& core_;
  Step step_;
  bool waiting_ = false;
};

struct Initiate {
  using executor_type = Socket::executor_type;
  Core* core;
  executor_type get_executor() const noexcept { return core->socket.get_executor(); }

  template <class Handler, class Step>
  void operator()(Handler&& handler, Step step) const {
    Op<Step, std::decay_t<Handler>>(std::forward<Handler>(handler), *core, std::move(step));
  }
};

}  // namespace tls_detail

class TlsStream {
 public:
  using executor_type = Socket::executor_type;
  // The socket itself: beast::get_lowest_layer, Beast's WebSocket timeouts close it there.
  using next_layer_type = Socket;
  enum handshake_type { client, server };

  // `socket` may still be unconnected (a client connects next_layer().socket() first): the TLS
  // session is bound to its descriptor when the handshake starts. `ctx` must outlive the stream.
  // Throws std::bad_alloc when OpenSSL cannot make the SSL object.
  TlsStream(Socket socket, net::ssl::context& ctx);
  TlsStream(TlsStream&&) noexcept = default;
  TlsStream& operator=(TlsStream&&) noexcept = default;

  executor_type get_executor() noexcept { return core_->socket.get_executor(); }
  Socket& next_layer() noexcept { return core_->socket; }
  SSL* native_handle() noexcept { return core_->ssl; }

  // Client side, before the handshake: send `name` as SNI (not when it is an IP address) and
  // require the server's certificate to be valid for it; peer verification is switched on.
  beast::error_code set_host_name(const std::string& name) { return core_->set_host_name(name); }

  // The deadline for what is outstanding and what comes next (see the top of this file).
  void expires_after(std::chrono::steady_clock::duration d) {
    core_->expires_at(std::chrono::steady_clock::now() + d);
  }
  void expires_never() { core_->expires_at(std::chrono::steady_clock::time_point::max()); }

  // void(error_code)
  template <class Token = net::default_completion_token_t<executor_type>>
  auto async_handshake(handshake_type type, Token&& token = {}) {
    return net::async_initiate<Token, void(beast::error_code)>(
        tls_detail::Initiate{core_.get()}, token,
        tls_detail::HandshakeStep{type == client ? tls_detail::Role::client
                                                 : tls_detail::Role::server});
  }

  // void(error_code, std::size_t). The peer's close_notify reads as net::error::eof; a TCP end
  // without one as net::ssl::error::stream_truncated (as with ssl::stream).
  template <class MutableBuffers, class Token = net::default_completion_token_t<executor_type>>
  auto async_read_some(const MutableBuffers& buffers, Token&& token = {}) {
    return net::async_initiate<Token, void(beast::error_code, std::size_t)>(
        tls_detail::Initiate{core_.get()}, token,
        tls_detail::ReadStep{tls_detail::first_buffer<net::mutable_buffer>(buffers)});
  }

  // void(error_code, std::size_t)
  template <class ConstBuffers, class Token = net::default_completion_token_t<executor_type>>
  auto async_write_some(const ConstBuffers& buffers, Token&& token = {}) {
    return net::async_initiate<Token, void(beast::error_code, std::size_t)>(
        tls_detail::Initiate{core_.get()}, token, tls_detail::WriteStep<ConstBuffers>{buffers});
  }

  // void(error_code). Sends our close_notify and completes; it does not wait for the peer's
  // (read on for that, or close). Nothing is sent before a finished handshake; after a fatal
  // error it completes with that error.
  template <class Token = net::default_completion_token_t<executor_type>>
  auto async_shutdown(Token&& token = {}) {
    return net::async_initiate<Token, void(beast::error_code)>(tls_detail::Initiate{core_.get()},
                                                               token, tls_detail::ShutdownStep{});
  }

  // The same, blocking (no deadline): for Beast's synchronous WebSocket teardown.
  void shutdown(beast::error_code& ec);

  // For a reader that does its own readiness waits on next_layer() (FrameStream): one attempt
  // at SSL_read, which never blocks. Want::nothing: done, with `n` bytes or `ec` set (net::error::
  // eof for the peer's close_notify); otherwise the readiness OpenSSL needs before the next try.
  // No deadline applies to it.
  tls_detail::Want try_read(net::mutable_buffer buffer, std::size_t& n, beast::error_code& ec) {
    return core_->read(buffer, n, ec);
  }
  // Whether OpenSSL holds input already (a record read off the socket and not all handed out):
  // a reader must not wait for the socket before taking it.
  bool has_pending() const noexcept { return ::SSL_has_pending(core_->ssl) == 1; }

 private:
  std::shared_ptr<tls_detail::Core> core_;
};

}  // namespace vespid::ws
