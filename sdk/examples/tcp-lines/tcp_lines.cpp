// tcp-lines: an example Vespid transport plugin, written the way a plugin author outside the
// gateway's source tree writes one: against the installed SDK only.
//
// It listens on a TCP port and frames one message per '\n'-terminated line. Every line is handed
// to the host as one whole message for the dialect the listener is configured for (operator.v1
// by default); every message the host sends goes out as one line. The codec, authentication and
// every protocol rule live in the gateway, so these few hundred lines get a complete protocol.
//
// What it shows, in order of appearance:
//   - the class shape vsp::TransportAdapter expects (create/start/stop/send/close);
//   - running entirely on the host's loop thread through host fd watches and timers: no thread
//     of its own, non-blocking sockets, a write watch that is enabled only while output waits;
//   - the connection lifecycle: conn_open -> conn_recv... -> conn_closed exactly once;
//   - the threading rules of `send` and `close`, which the host may call on ANY thread: each
//     connection's output is a vsp::SendQueue (<vespid/send_queue.hpp>), which has its own mutex,
//     and the socket itself is touched only on the loop thread, by a flush task posted there;
//   - backpressure (VSP_E_BUSY, conn_writable) and the hard limit (VSP_E_OVERFLOW), which the
//     SendQueue keeps: a transport that uses it gets them right;
//   - line framing with vsp::LineFramer (<vespid/line_framer.hpp>), and framing errors reported
//     with conn_protocol_error, so the peer gets the dialect's answer;
//   - an asynchronous stop that drains connections and then calls `done`.
//
// Only the C++ standard library and POSIX are used.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>
#include <vespid/line_framer.hpp>
#include <vespid/plugin.hpp>
#include <vespid/send_queue.hpp>

#include "config.hpp"

#ifndef TCP_LINES_VERSION
#define TCP_LINES_VERSION "0.0.0"
#endif

namespace tcp_lines {
namespace {

constexpr size_t kReadChunk = 64 * 1024;    // bytes per read()
constexpr int kReadsPerWakeup = 16;         // then let the loop serve others (watches are level-
constexpr int kAcceptsPerWakeup = 64;       //   triggered, so we are called again if more waits)
constexpr uint64_t kCloseLingerMs = 3000;   // how long a close may wait for queued output
constexpr uint64_t kHalfCloseMs = 2000;     // how long replies may still go out after peer EOF
constexpr uint64_t kAcceptBackoffMs = 100;  // pause after accept() fails (e.g. out of fds)

// strerror() is not thread-safe in general; this plugin only calls it on the loop thread.
std::string os_error(int e) {
  return std::strerror(e);
}

int status_for_errno(int e) {
  switch (e) {
    case EADDRINUSE:
      return VSP_E_ADDR_IN_USE;
    case EACCES:
    case EPERM:
      return VSP_E_PERMISSION;
    case ENOMEM:
    case ENOBUFS:
      return VSP_E_NOMEM;
    default:
      return VSP_E_IO;
  }
}

// "127.0.0.1:8080" or "[::1]:8080".
std::string format_address(const sockaddr_storage& ss) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    const auto& in4 = reinterpret_cast<const sockaddr_in&>(ss);
    inet_ntop(AF_INET, &in4.sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(in4.sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(in6.sin6_port));
  }
  return "unknown";
}

std::string local_address_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "unknown";
  return format_address(ss);
}

// One accepted connection. The host knows it only as an opaque vsp_plugin_conn* (this object's
// address) and passes it back to send() and close().
//
// The fields fall into two groups. Loop-thread fields are touched only on the host's loop thread
// (every watch, timer and posted callback runs there), so they need no lock. The output queue is
// also touched by send() and close(), which the host may call on any thread; vsp::SendQueue has
// its own mutex for that, and never calls the host while holding it. The host never calls
// send/close for one connection concurrently, but those calls can run at the same time as our
// own loop-thread work on it.
//
// Lifetime: shared_ptr. The instance holds one reference while the connection is open; a posted
// flush task holds another, so a task that runs after the connection closed finds a live object
// that says `finished` and does nothing.
struct Conn : std::enable_shared_from_this<Conn> {
  Conn(int fd_in, std::string peer_in, std::string local_in, const Config& cfg)
      : fd(fd_in),
        peer(std::move(peer_in)),
        local(std::move(local_in)),
        // A '\r' before the '\n' stays part of the message (JSON reads it as white space).
        framer(cfg.max_line_bytes, vsp::LineFramer::Cr::keep),
        out(cfg.send_queue_bytes) {}

  // ---- Loop thread only ----
  int fd;
  const std::string peer;
  const std::string local;
  vsp_host_conn* host_conn = nullptr;      // set once conn_open succeeded
  bool finished = false;                   // conn_closed has been reported
  std::unique_ptr<vsp::Watch> watch;       // READ while reading, WRITE while output waits
  uint32_t watched = 0;                    // the events `watch` currently requests
  bool reading = true;                     // false after EOF, a framing error, or while closing
  vsp::LineFramer framer;                  // received bytes into lines; holds a partial line
  std::unique_ptr<vsp::Timer> linger;      // bounds how long a close waits for its flush
  std::unique_ptr<vsp::Timer> half_close;  // after the peer's EOF: when to stop waiting

  // ---- Any thread (its own mutex) ----
  // Lines queued by send(), '\n' included; the byte accounting behind VSP_E_BUSY, conn_writable
  // and VSP_E_OVERFLOW; whether (and with what code and reason) a close was requested.
  vsp::SendQueue out;
};

Conn* as_conn(vsp_plugin_conn* pc) {
  return reinterpret_cast<Conn*>(pc);
}
vsp_plugin_conn* as_plugin_conn(Conn* c) {
  return reinterpret_cast<vsp_plugin_conn*>(c);
}

class TcpLines {
 public:
  // ---- The interface vsp::TransportAdapter<TcpLines> builds the C table from ----

  // Loop thread. Parse and validate the config; open nothing yet.
  static std::unique_ptr<TcpLines> create(vsp::Host host, std::string_view config_json) {
    return std::unique_ptr<TcpLines>(new TcpLines(host, parse_config(config_json)));
  }

  // Loop thread. Bind and listen. A failure here is reported through the error the host gets.
  void start();

  // Loop thread. Stop accepting, close every connection (flushing what is queued, bounded by
  // kCloseLingerMs), then call done() once the last conn_closed has been reported.
  void stop(std::function<void()> done);

  // ANY thread, must not block. Queue one message as one line for the loop thread to write.
  int send(vsp_plugin_conn* conn, std::string_view message);

  // ANY thread, must not block. Flush, then close; conn_closed follows from the loop thread.
  void close(vsp_plugin_conn* conn, int code, const char* reason);

  // Loop thread (the host's destroy). After stop completed or after a failed start.
  ~TcpLines();

  TcpLines(const TcpLines&) = delete;
  TcpLines& operator=(const TcpLines&) = delete;

 private:
  TcpLines(vsp::Host host, Config cfg) : host_(host), api_(host.api()), cfg_(std::move(cfg)) {}

  void on_accept_ready();
  void open_connection(int fd, const sockaddr_storage& peer);
  void on_conn_events(Conn& c, uint32_t revents);
  void read_input(Conn& c);
  void frame_lines(Conn& c, const char* data, size_t n);
  void on_peer_eof(Conn& c);
  void stop_reading(Conn& c);
  void schedule_flush(Conn& c);
  void drain(Conn& c);
  bool write_output(Conn& c);
  void update_watch(Conn& c);
  void begin_close(Conn& c, int status, const std::string& reason);
  void finish_close(Conn& c, int status, const std::string& reason);
  void close_listener();
  void maybe_stopped();

  const vsp::Host host_;
  const vsp_host_api* const api_;
  const Config cfg_;

  // Everything below is loop-thread only.
  int listen_fd_ = -1;
  std::string listen_address_;
  std::unique_ptr<vsp::Watch> listen_watch_;
  std::unique_ptr<vsp::Timer> accept_backoff_;
  std::unordered_map<Conn*, std::shared_ptr<Conn>> conns_;
  std::vector<char> read_buf_ = std::vector<char>(kReadChunk);
  bool stopping_ = false;
  std::function<void()> stop_done_;
};

// ---- Lifecycle ------------------------------------------------------------------------------

void TcpLines::start() {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, cfg_.host.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(cfg_.port);
    addr_len = sizeof *in4;
  } else if (inet_pton(AF_INET6, cfg_.host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(cfg_.port);
    addr_len = sizeof *in6;
  } else {
    throw vsp::Error(VSP_E_INVALID, "tcp-lines: bad host \"" + cfg_.host + "\"");  // create checked
  }
  const std::string where = format_address(addr);

  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int e = errno;
    throw vsp::Error(status_for_errno(e), "tcp-lines: socket() failed: " + os_error(e));
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (addr.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), addr_len) != 0 ||
      ::listen(fd, SOMAXCONN) != 0) {
    int e = errno;
    ::close(fd);
    throw vsp::Error(status_for_errno(e), "tcp-lines: cannot listen on " + where + " (config " +
                                              "keys \"host\", \"port\"): " + os_error(e));
  }

  try {
    listen_watch_ = std::make_unique<vsp::Watch>(host_, fd, VSP_WATCH_READ,
                                                 [this](uint32_t) { on_accept_ready(); });
    accept_backoff_ = std::make_unique<vsp::Timer>(host_, [this] {
      if (listen_watch_) listen_watch_->update(VSP_WATCH_READ);
    });
  } catch (...) {
    listen_watch_.reset();
    ::close(fd);
    throw;
  }
  listen_fd_ = fd;
  listen_address_ = where;
  host_.info("tcp-lines: listening on " + where + ", dialect " + cfg_.dialect);
}

void TcpLines::stop(std::function<void()> done) {
  stopping_ = true;
  stop_done_ = std::move(done);
  close_listener();
  // begin_close may finish a connection at once (nothing queued), which erases it from conns_,
  // so walk a copy.
  std::vector<std::shared_ptr<Conn>> open;
  open.reserve(conns_.size());
  for (const auto& entry : conns_) open.push_back(entry.second);
  for (const auto& c : open) begin_close(*c, VSP_OK, "the gateway is shutting down");
  maybe_stopped();
}

TcpLines::~TcpLines() {
  // Normally stop() has closed everything. If the host gave up waiting for the drain, close what
  // is left now, still reporting conn_closed: host services are valid until destroy returns.
  stop_done_ = nullptr;
  std::vector<std::shared_ptr<Conn>> left;
  for (const auto& entry : conns_) left.push_back(entry.second);
  for (const auto& c : left) finish_close(*c, VSP_E_CLOSED, "transport destroyed");
  close_listener();
}

void TcpLines::close_listener() {
  accept_backoff_.reset();
  listen_watch_.reset();  // free the watch before closing its fd
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    host_.info("tcp-lines: stopped listening on " + listen_address_);
  }
}

void TcpLines::maybe_stopped() {
  if (stopping_ && conns_.empty() && stop_done_) {
    auto done = std::move(stop_done_);
    stop_done_ = nullptr;
    done();
  }
}

// ---- Accepting ------------------------------------------------------------------------------

void TcpLines::on_accept_ready() {
  for (int i = 0; i < kAcceptsPerWakeup && listen_fd_ >= 0; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      open_connection(fd, peer);
      continue;
    }
    int e = errno;
    if (e == EINTR || e == ECONNABORTED) continue;
    if (e == EAGAIN || e == EWOULDBLOCK) return;
    // Out of file descriptors or memory: the pending connection stays in the backlog and a
    // level-triggered watch would call us again at once, so pause the listener for a moment.
    host_.warn("tcp-lines: accept() failed: " + os_error(e) + "; pausing the listener");
    listen_watch_->update(0);
    accept_backoff_->arm(kAcceptBackoffMs);
    return;
  }
}

void TcpLines::open_connection(int fd, const sockaddr_storage& peer_addr) {
  std::string peer = format_address(peer_addr);
  if (conns_.size() >= cfg_.max_connections) {
    host_.warn("tcp-lines: refused " + peer + ": max_connections (" +
               std::to_string(cfg_.max_connections) + ") reached");
    ::close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // small request/response lines

  std::shared_ptr<Conn> c;
  try {
    c = std::make_shared<Conn>(fd, peer, local_address_of(fd), cfg_);
    // Watch before conn_open: this is the loop thread, so no event can be delivered before we
    // return, and once conn_open has succeeded nothing may fail without a conn_closed.
    Conn* raw = c.get();
    c->watch = std::make_unique<vsp::Watch>(
        host_, fd, VSP_WATCH_READ,
        [this, raw](uint32_t revents) { on_conn_events(*raw, revents); });
    c->watched = VSP_WATCH_READ;
  } catch (const std::exception& e) {
    host_.error(std::string("tcp-lines: cannot serve ") + peer + ": " + e.what());
    ::close(fd);
    return;
  }

  vsp_conn_info info{};
  info.struct_size = sizeof info;
  info.dialect = cfg_.dialect.c_str();
  info.peer_address = c->peer.c_str();
  info.local_address = c->local.c_str();
  // No VSP_CONN_LOCAL_ADMIN: anyone who can reach a TCP port could be anybody. The host gives
  // this connection only what the dialect's own authentication grants.
  info.flags = 0;
  vsp_error err{};
  err.struct_size = sizeof err;
  vsp_host_conn* host_conn = nullptr;
  int rc = api_->conn_open(host_.instance(), &info, as_plugin_conn(c.get()), &host_conn, &err);
  if (rc != VSP_OK) {
    // Refused (unknown dialect, shutting down, ...): close the socket, and no conn_closed.
    c->out.finish();
    c->finished = true;
    c->watch.reset();
    ::close(fd);
    c->fd = -1;
    host_.warn("tcp-lines: the gateway refused " + peer + ": " + err.message);
    return;
  }
  c->host_conn = host_conn;
  c->out.attach(api_, host_conn);  // the queue tells the host conn_writable itself
  conns_.emplace(c.get(), c);
  host_.debug("tcp-lines: " + peer + " connected");
}

// ---- Reading --------------------------------------------------------------------------------

void TcpLines::on_conn_events(Conn& c, uint32_t revents) {
  // Hold a reference: finish_close may drop the instance's reference while we are in here.
  std::shared_ptr<Conn> keep = c.shared_from_this();
  if (revents & VSP_WATCH_ERROR) {
    int e = 0;
    socklen_t len = sizeof e;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &e, &len);
    finish_close(c, VSP_E_IO, "socket error: " + os_error(e ? e : EIO));
    return;
  }
  if (revents & VSP_WATCH_WRITE) {
    drain(c);
    if (c.finished) return;
  }
  if (revents & (VSP_WATCH_READ | VSP_WATCH_HUP)) {
    if (c.reading) {
      read_input(c);  // reads what is left, then sees EOF
    } else if (revents & VSP_WATCH_HUP) {
      // Both directions are gone: nothing we still wait to read or write can get through.
      finish_close(c, VSP_E_CLOSED, "peer hung up");
    }
  }
}

void TcpLines::read_input(Conn& c) {
  for (int i = 0; i < kReadsPerWakeup && c.reading; ++i) {
    ssize_t n = ::read(c.fd, read_buf_.data(), read_buf_.size());
    if (n < 0) {
      int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == EWOULDBLOCK) return;
      finish_close(c, VSP_E_IO, "read failed: " + os_error(e));
      return;
    }
    if (n == 0) {
      on_peer_eof(c);
      return;
    }
    frame_lines(c, read_buf_.data(), static_cast<size_t>(n));
  }
}

// Hands every complete line to the host, in order, one conn_recv per line. LineFramer keeps only
// an unterminated tail, skips blank lines (keep-alives, not messages) and refuses a line over
// max_line_bytes as soon as it is certain, before its '\n' arrives.
void TcpLines::frame_lines(Conn& c, const char* data, size_t n) {
  const vsp::LineFramer::Result r = c.framer.feed(data, n, [&](std::string_view line) {
    if (api_->conn_recv(c.host_conn, line.data(), line.size()) != VSP_E_CLOSED) return true;
    stop_reading(c);  // the host is closing this connection
    return false;
  });
  if (r != vsp::LineFramer::Result::overflow) return;
  // Framing is ours; the answer is the dialect's. The host replies in the dialect's error form
  // through send() and then calls close().
  stop_reading(c);
  c.framer.reset();
  std::string msg = "line exceeds max_line_bytes (" + std::to_string(cfg_.max_line_bytes) + ")";
  api_->conn_protocol_error(c.host_conn, VSP_E_OVERFLOW, msg.c_str());
}

// The peer will send no more. It may still read, though: a client that writes its requests and
// then shuts down its sending side (`printf ... | socat - TCP:...`) waits for the replies, and
// some replies come later than others (those that need storage). TCP cannot tell that from a
// full close until a write fails, so replies may still go out for kHalfCloseMs; then the
// connection closes like any other (flushing what is queued). A peer that is really gone makes
// the next write fail, which closes the connection at once.
void TcpLines::on_peer_eof(Conn& c) {
  stop_reading(c);
  c.framer.reset();  // an unterminated last line is not a message
  if (c.half_close) return;
  Conn* raw = &c;
  c.half_close = std::make_unique<vsp::Timer>(
      host_, [this, raw] { begin_close(*raw, VSP_OK, "peer closed the connection"); });
  c.half_close->arm(kHalfCloseMs);
}

void TcpLines::stop_reading(Conn& c) {
  c.reading = false;
  update_watch(c);
}

// ---- Writing --------------------------------------------------------------------------------

int TcpLines::send(vsp_plugin_conn* conn, std::string_view message) {
  Conn& c = *as_conn(conn);
  // A line-framed protocol cannot carry a raw newline inside a message. JSON text never needs
  // one (inside strings it is escaped), so this only catches a host bug.
  if (!message.empty() && std::memchr(message.data(), '\n', message.size()) != nullptr) {
    return VSP_E_INVALID;
  }
  // The queue copies the line (`message` is borrowed for this call only) and keeps the rules of
  // transport.h: VSP_E_BUSY above half of send_queue_bytes, VSP_E_OVERFLOW (not queued) at the
  // limit, VSP_E_CLOSED once closing. A slow reader is dropped, never buffered without bound:
  // the flush closes an overflowed connection without writing.
  const vsp_msg line{message.data(), message.size()};
  const vsp::Queued q = c.out.send_lines(&line, 1);
  // Never call the host from inside a lock: the queue holds its own only inside its calls.
  if (q.post_flush || q.status == VSP_E_OVERFLOW) schedule_flush(c);
  return q.status;
}

void TcpLines::close(vsp_plugin_conn* conn, int code, const char* reason) {
  Conn& c = *as_conn(conn);
  if (!c.out.request_close(code, reason ? reason : "closed by the gateway")) return;  // closing
  // conn_closed must not be called from inside close(): the loop thread does it, in the flush.
  if (c.out.claim_flush()) schedule_flush(c);
}

// Any thread. Runs drain() on the loop thread soon. Every send() of one loop turn lands in the
// same flush, so they leave in one gathered write.
void TcpLines::schedule_flush(Conn& c) {
  std::shared_ptr<Conn> keep = c.shared_from_this();
  bool posted = host_.post([this, keep] {
    // Finished: the connection (and maybe the instance) is gone; touch nothing else.
    if (keep->finished) return;
    drain(*keep);  // its take() lets the next send post a flush again
  });
  // The host is shutting down past running tasks; stop() or destroy closes the connection.
  if (!posted) c.out.retry_post();
}

// Loop thread. Takes what send() queued, writes what the socket accepts, and carries out a
// requested close once everything is out (or at once, after an overflow).
void TcpLines::drain(Conn& c) {
  if (c.finished) return;
  if (c.out.overflowed()) {
    finish_close(
        c, VSP_E_OVERFLOW,
        "send queue exceeds send_queue_bytes (" + std::to_string(cfg_.send_queue_bytes) + ")");
    return;
  }
  if (!write_output(c)) return;  // the socket failed and the connection is closed
  if (c.out.closing()) {
    if (c.out.empty()) {
      const vsp::CloseRequest req = c.out.close_request();
      finish_close(c, req.code, req.reason);
      return;
    }
    c.reading = false;
    if (!c.linger) {
      Conn* raw = &c;
      c.linger = std::make_unique<vsp::Timer>(host_, [this, raw] {
        finish_close(*raw, VSP_E_CLOSED, "gave up flushing before close");
      });
      c.linger->arm(kCloseLingerMs);
    }
  }
  update_watch(c);
}

// Loop thread. Writes what is queued until it is all out or the socket is full (the write watch
// tells us when to go on); everything queued in one loop turn leaves in one write. The queue
// calls conn_writable once a busy queue is down to a quarter of send_queue_bytes. Returns false
// if the connection failed and was closed.
bool TcpLines::write_output(Conn& c) {
  const int e = c.out.write_to(c.fd);
  if (e == 0) return true;
  finish_close(c, VSP_E_IO, "write failed: " + os_error(e));
  return false;
}

// Loop thread. READ while we still read, WRITE only while output waits for the socket.
void TcpLines::update_watch(Conn& c) {
  if (!c.watch) return;
  uint32_t want =
      (c.reading ? VSP_WATCH_READ : 0u) | (c.out.unwritten().empty() ? 0u : VSP_WATCH_WRITE);
  if (want != c.watched) {
    c.watch->update(want);
    c.watched = want;
  }
}

// ---- Closing --------------------------------------------------------------------------------

// Loop thread. Our own decision to close (EOF, stop): flush, then close, like close() does.
void TcpLines::begin_close(Conn& c, int status, const std::string& reason) {
  c.out.request_close(status, reason.c_str());  // unless a close is under way already
  c.reading = false;
  drain(c);
}

// Loop thread. The one place a connection ends: release the socket, then report conn_closed,
// exactly once, never from inside send() or close().
void TcpLines::finish_close(Conn& c, int status, const std::string& reason) {
  if (c.finished) return;
  c.finished = true;
  std::shared_ptr<Conn> keep = c.shared_from_this();
  c.out.finish();  // from now on send() answers VSP_E_CLOSED
  c.framer.reset();
  c.linger.reset();
  c.half_close.reset();
  c.watch.reset();  // free the watch before closing its fd
  // Closing a TCP socket that still holds unread input sends RST instead of FIN, and an RST can
  // destroy our last reply (the error after an over-long line, say) before the peer reads it.
  // So drop what has already arrived first (bounded; a peer that keeps sending gets its RST).
  for (int i = 0; i < kReadsPerWakeup; ++i) {
    if (::recv(c.fd, read_buf_.data(), read_buf_.size(), MSG_DONTWAIT) <= 0) break;
  }
  ::close(c.fd);
  c.fd = -1;
  conns_.erase(&c);
  host_.debug("tcp-lines: " + c.peer + " closed: " + reason);
  api_->conn_closed(c.host_conn, status, reason.c_str());
  c.host_conn = nullptr;
  maybe_stopped();
}

}  // namespace
}  // namespace tcp_lines

VSP_DECLARE_MODULE("vespid-tcp-lines", TCP_LINES_VERSION,
                   vsp::transport_plugin<tcp_lines::TcpLines>(
                       "tcp-lines", "TCP listener, one JSON message per line (SDK example)"))
