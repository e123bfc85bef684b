#include "connection.hpp"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "vespid/lines.hpp"

namespace vespid::unix_transport {

namespace {

// How long a closing connection may take to drain its queue before it is cut off.
constexpr uint64_t kCloseLingerMs = 2000;
// After the peer shut down its sending side (`socat`, `nc -N`) answers to its last requests may
// still be on their way; keep the socket this long for them, then close.
constexpr uint64_t kHalfCloseLingerMs = 10000;
// Bounds the work done per readiness callback so one busy client cannot starve the loop.
constexpr int kReadsPerWakeup = 8;
constexpr std::size_t kReadChunk = 64 * 1024;

}  // namespace

Connection::Connection(vsp::Host host, int fd, ConnLimits limits, FinishedFn on_finished)
    : host_(host),
      limits_(limits),
      on_finished_(std::move(on_finished)),
      fd_(fd),
      framer_(limits.max_message_bytes, vsp::LineFramer::Cr::keep),
      out_(limits.send_queue_bytes) {}

Connection::~Connection() {
  // Normally finish() or abandon() already ran on the loop thread; this only guards the fd.
  if (fd_ >= 0) ::close(fd_);
}

void Connection::attach(vsp_host_conn* host_conn) {
  host_conn_ = host_conn;
  out_.attach(host_.api(), host_conn);
  out_.allow_direct_writes();
  watched_ = VSP_WATCH_READ;
  watch_ = std::make_unique<vsp::Watch>(host_, fd_, watched_,
                                        [this](uint32_t revents) { on_ready(revents); });
}

// ---- Input ---------------------------------------------------------------------------------

void Connection::on_ready(uint32_t revents) {
  if (finish_scheduled_ || finished_) return;
  if (reading_ && (revents & (VSP_WATCH_READ | VSP_WATCH_HUP | VSP_WATCH_ERROR))) {
    // A hang-up or error with reading enabled surfaces through read() as EOF or an errno.
    read_input();
  } else if (!reading_ && (revents & (VSP_WATCH_HUP | VSP_WATCH_ERROR))) {
    // Not reading any more, so read() cannot report it; the peer is gone and the watch would
    // keep firing.
    schedule_finish(VSP_OK, "peer hung up");
    return;
  }
  if (finish_scheduled_ || finished_) return;
  if (revents & VSP_WATCH_WRITE) flush();
}

void Connection::read_input() {
  char buf[kReadChunk];
  for (int i = 0; i < kReadsPerWakeup && reading_; ++i) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) {
      deliver_lines(buf, static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < sizeof buf) return;  // drained for now
      continue;
    }
    if (n == 0) {
      on_peer_eof();
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    schedule_finish(VSP_E_IO, std::string("read failed: ") + std::strerror(errno));
    return;
  }
}

void Connection::deliver_lines(const char* data, std::size_t n) {
  // The host may hold the replies to these lines and write them together at the end.
  vsp::ReplyBatch batch(host_);
  const vsp::LineFramer::Result r = framer_.feed(data, n, [this](std::string_view line) {
    if (host_.api()->conn_recv(host_conn_, line.data(), line.size()) != VSP_E_CLOSED) return true;
    // The host is closing this connection; further input has nobody to go to.
    reading_ = false;
    update_watch();
    return false;
  });
  // A partial line already over the limit will not become acceptable by waiting for its end.
  if (r == vsp::LineFramer::Result::overflow) protocol_overflow();
}

void Connection::protocol_overflow() {
  reading_ = false;
  framer_.reset();
  update_watch();
  // The host answers in operator.v1's own error form through send(), then calls close().
  const std::string msg =
      "message exceeds max_message_bytes (" + std::to_string(limits_.max_message_bytes) + ")";
  host_.api()->conn_protocol_error(host_conn_, VSP_E_OVERFLOW, msg.c_str());
}

void Connection::on_peer_eof() {
  // A last request without its newline is still a whole request: the peer can send no more.
  // (The framer never holds one over the limit.)
  if (const std::string_view tail = framer_.partial(); !tail.empty()) {
    host_.api()->conn_recv(host_conn_, tail.data(), tail.size());
  }
  framer_.reset();
  reading_ = false;
  update_watch();

  // Tell a full close (nobody will read our answers) from a half close (the peer still reads).
  pollfd p{fd_, POLLOUT, 0};
  const bool hung_up = ::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0;
  if (hung_up) {
    schedule_finish(VSP_OK, "peer closed the connection");
    return;
  }
  if (!linger_) {
    std::weak_ptr<Connection> weak = weak_from_this();
    linger_ = std::make_unique<vsp::Timer>(host_, [weak] {
      if (auto self = weak.lock()) self->schedule_finish(VSP_OK, "peer closed its sending side");
    });
    linger_->arm(kHalfCloseLingerMs);
  }
}

// ---- Output --------------------------------------------------------------------------------

int Connection::send(std::string_view message) noexcept {
  const vsp_msg one{message.data(), message.size()};
  return send_batch(&one, 1);
}

int Connection::send_batch(const vsp_msg* msgs, std::size_t count) noexcept {
  // From another thread (the core answering on the thread that received a node's reply), an
  // idle connection's answers go out now, in one write, instead of waking the loop thread to
  // write them. Anything queued or being written keeps the order: then they queue.
  const vsp::Queued q = out_.send_lines(msgs, count, [this](const vsp_msg* m, std::size_t n) {
    if (std::this_thread::get_id() == loop_thread_) return std::size_t{0};
    return vsp::lines::write_now(fd_, m, n);
  });
  try {
    std::shared_ptr<Connection> self = shared_from_this();
    if (q.status == VSP_E_OVERFLOW) {
      // Closing touches the socket and calls conn_closed, neither of which may happen here.
      host_.post([self] {
        if (!self->finished_) self->run_close(VSP_E_OVERFLOW, "send queue overflow");
      });
    } else if (q.post_flush) {
      // Coalescing: everything sent before the loop gets to this task goes out in one write.
      host_.post([self] {
        if (!self->finished_ && !self->finish_scheduled_) self->flush();
      });
    }
  } catch (const std::bad_alloc&) {
    if (q.status != VSP_E_OVERFLOW) out_.retry_post();
    return VSP_E_NOMEM;
  }
  return q.status;
}

void Connection::flush() {
  // Writes until the socket is full; conn_writable goes out from in here once a busy queue is
  // down to a quarter.
  if (const int err = out_.write_to(fd_); err != 0) {
    schedule_finish(VSP_E_IO, std::string("write failed: ") + std::strerror(err));
    return;
  }
  update_watch();
  if (closing_ && out_.empty()) schedule_finish(close_code_, close_reason_);
}

void Connection::update_watch() {
  if (!watch_) return;
  const uint32_t want =
      (reading_ ? VSP_WATCH_READ : 0u) | (out_.unwritten().empty() ? 0u : VSP_WATCH_WRITE);
  if (want != watched_) {
    watched_ = want;
    watch_->update(want);
  }
}

// ---- Closing -------------------------------------------------------------------------------

void Connection::request_close(int code) noexcept {
  if (!out_.request_close(code)) return;  // closing already
  try {
    std::shared_ptr<Connection> self = shared_from_this();
    host_.post([self, code] {
      if (!self->finished_) self->run_close(code, "closed by the gateway");
    });
  } catch (...) {
    // Only allocation can fail here; the host's shutdown timeout is the backstop.
  }
}

void Connection::close_on_loop(int code, const char* reason) {
  out_.request_close(code, reason);
  run_close(code, reason);
}

void Connection::run_close(int code, const char* reason) {
  if (closing_ || finished_) return;
  closing_ = true;
  close_code_ = code;
  close_reason_ = reason ? reason : "closed";
  reading_ = false;
  if (out_.overflowed()) {
    finish(VSP_E_OVERFLOW, out_.overflow_reason());
    return;
  }
  flush();
  if (finish_scheduled_) return;  // drained (or failed) already
  update_watch();
  std::weak_ptr<Connection> weak = weak_from_this();
  linger_ = std::make_unique<vsp::Timer>(host_, [weak] {
    if (auto self = weak.lock()) {
      self->schedule_finish(self->close_code_,
                            self->close_reason_ + " (output not drained in time)");
    }
  });
  linger_->arm(kCloseLingerMs);
}

void Connection::schedule_finish(int status, std::string reason) {
  if (finish_scheduled_ || finished_) return;
  finish_scheduled_ = true;
  // Deferred: this may run inside a callback of the very watch or timer that finish() frees.
  // If the host no longer runs tasks it is past waiting for conn_closed; destroy() abandons us.
  std::shared_ptr<Connection> self = shared_from_this();
  host_.post([self, status, reason] { self->finish(status, reason); });
}

void Connection::finish(int status, const std::string& reason) {
  if (finished_) return;
  finished_ = true;
  out_.finish();  // from here on every send is VSP_E_CLOSED, so none writes to fd_
  linger_.reset();
  watch_.reset();  // before close(): the host must stop watching an fd number that may be reused
  ::close(fd_);
  fd_ = -1;
  host_.api()->conn_closed(host_conn_, status, reason.c_str());
  on_finished_(this);
}

void Connection::abandon() noexcept {
  finished_ = true;
  out_.finish();
  linger_.reset();
  watch_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace vespid::unix_transport
