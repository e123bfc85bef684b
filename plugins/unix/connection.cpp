#include "connection.hpp"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
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
constexpr std::size_t kMaxIov = 64;

}  // namespace

Connection::Connection(vsp::Host host, int fd, ConnLimits limits, FinishedFn on_finished)
    : host_(host), limits_(limits), on_finished_(std::move(on_finished)), fd_(fd) {}

Connection::~Connection() {
  // Normally finish() or abandon() already ran on the loop thread; this only guards the fd.
  if (fd_ >= 0) ::close(fd_);
}

void Connection::attach(vsp_host_conn* host_conn) {
  host_conn_ = host_conn;
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
      inbuf_.append(buf, static_cast<std::size_t>(n));
      deliver_lines();
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

void Connection::deliver_lines() {
  // The host may hold the replies to these lines and write them together at the end.
  vsp::ReplyBatch batch(host_);
  std::size_t start = 0;
  while (reading_) {
    const auto nl = inbuf_.find('\n', std::max(start, scanned_));
    if (nl == std::string::npos) break;
    const std::size_t len = nl - start;
    if (len > limits_.max_message_bytes) {
      protocol_overflow();
      return;
    }
    if (len > 0) {  // empty lines are keep-alives from hand-typed sessions; skip them
      const int rc = host_.api()->conn_recv(host_conn_, inbuf_.data() + start, len);
      if (rc == VSP_E_CLOSED) {
        // The host is closing this connection; further input has nobody to go to.
        reading_ = false;
        update_watch();
      }
    }
    start = nl + 1;
  }
  inbuf_.erase(0, start);
  scanned_ = inbuf_.size();
  // A partial line already over the limit will not become acceptable by waiting for its end.
  if (reading_ && inbuf_.size() > limits_.max_message_bytes) protocol_overflow();
}

void Connection::protocol_overflow() {
  reading_ = false;
  inbuf_.clear();
  scanned_ = 0;
  update_watch();
  // The host answers in operator.v1's own error form through send(), then calls close().
  const std::string msg =
      "message exceeds max_message_bytes (" + std::to_string(limits_.max_message_bytes) + ")";
  host_.api()->conn_protocol_error(host_conn_, VSP_E_OVERFLOW, msg.c_str());
}

void Connection::on_peer_eof() {
  // A last request without its newline is still a whole request: the peer can send no more.
  if (!inbuf_.empty() && inbuf_.size() <= limits_.max_message_bytes) {
    host_.api()->conn_recv(host_conn_, inbuf_.data(), inbuf_.size());
  }
  inbuf_.clear();
  scanned_ = 0;
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
  bool post_flush = false;
  bool overflow = false;
  int rc = VSP_OK;
  if (count == 0) return VSP_OK;
  try {
    std::lock_guard lock(mu_);
    if (close_requested_ || dead_) return VSP_E_CLOSED;
    const std::size_t need = vsp::lines::wire_size(msgs, count);
    // From another thread (the core answering on the thread that received a node's reply), an
    // idle connection's answers go out now, in one write, instead of waking the loop thread to
    // write them. Anything queued or being written keeps the order: then they queue.
    std::size_t sent = 0;
    if (pending_.empty() && !wire_busy_ && 2 * count <= kMaxIov &&
        std::this_thread::get_id() != loop_thread_) {
      static const char newline = '\n';
      iovec iov[kMaxIov];
      vsp::lines::gather(msgs, count, &newline, iov);
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = 2 * count;
      const ssize_t n = ::sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n == static_cast<ssize_t>(need)) return VSP_OK;
      // A full buffer queues the rest; an error is left for the loop thread's write to report.
      if (n > 0) sent = static_cast<std::size_t>(n);
    }
    const std::size_t rest = need - sent;  // a partial line already on the wire stays first
    if (queued_bytes_ + rest > limits_.send_queue_bytes) {
      // A reader this slow is dropped, never buffered without bound.
      close_requested_ = true;
      overflowed_ = true;
      overflow = true;
    } else {
      std::string framed;
      framed.reserve(rest);
      vsp::lines::append_unsent(framed, msgs, count, sent);
      pending_.push_back(std::move(framed));
      queued_bytes_ += rest;
      if (queued_bytes_ > limits_.send_queue_bytes / 2) {
        busy_ = true;
        rc = VSP_E_BUSY;
      }
      post_flush = !std::exchange(flush_posted_, true);
    }
  } catch (const std::bad_alloc&) {
    return VSP_E_NOMEM;
  }

  try {
    std::shared_ptr<Connection> self = shared_from_this();
    if (overflow) {
      // Closing touches the socket and calls conn_closed, neither of which may happen here.
      host_.post([self] {
        if (!self->finished_) self->run_close(VSP_E_OVERFLOW, "send queue overflow");
      });
      return VSP_E_OVERFLOW;
    }
    if (post_flush) {
      // Coalescing: everything sent before the loop gets to this task goes out in one write.
      host_.post([self] {
        if (!self->finished_ && !self->finish_scheduled_) self->flush();
      });
    }
  } catch (const std::bad_alloc&) {
    return VSP_E_NOMEM;
  }
  return rc;
}

void Connection::flush() {
  {
    std::lock_guard lock(mu_);
    flush_posted_ = false;
    for (auto& m : pending_) writing_.push_back(std::move(m));
    pending_.clear();
    wire_busy_ = !writing_.empty();
  }

  std::size_t written_total = 0;
  while (!writing_.empty()) {
    iovec iov[kMaxIov];
    std::size_t count = 0;
    for (auto it = writing_.begin(); it != writing_.end() && count < kMaxIov; ++it, ++count) {
      const std::size_t skip = count == 0 ? write_offset_ : 0;
      iov[count].iov_base = it->data() + skip;
      iov[count].iov_len = it->size() - skip;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    // sendmsg rather than writev: MSG_NOSIGNAL turns a vanished peer into EPIPE instead of a
    // SIGPIPE that would kill a gateway which has not ignored it.
    const ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      schedule_finish(VSP_E_IO, std::string("write failed: ") + std::strerror(errno));
      return;
    }
    auto left = static_cast<std::size_t>(n);
    written_total += left;
    while (left > 0) {
      const std::size_t rest = writing_.front().size() - write_offset_;
      if (left < rest) {
        write_offset_ += left;
        left = 0;
      } else {
        left -= rest;
        write_offset_ = 0;
        writing_.pop_front();
      }
    }
  }

  bool now_writable = false;
  bool drained = false;
  {
    std::lock_guard lock(mu_);
    wire_busy_ = !writing_.empty();
    queued_bytes_ -= written_total;
    if (busy_ && queued_bytes_ <= limits_.send_queue_bytes / 4) {
      busy_ = false;
      now_writable = true;
    }
    drained = queued_bytes_ == 0;
  }
  update_watch();
  if (now_writable && !closing_) host_.api()->conn_writable(host_conn_);
  if (closing_ && drained) schedule_finish(close_code_, close_reason_);
}

void Connection::update_watch() {
  if (!watch_) return;
  const uint32_t want =
      (reading_ ? VSP_WATCH_READ : 0u) | (writing_.empty() ? 0u : VSP_WATCH_WRITE);
  if (want != watched_) {
    watched_ = want;
    watch_->update(want);
  }
}

// ---- Closing -------------------------------------------------------------------------------

void Connection::request_close(int code) noexcept {
  {
    std::lock_guard lock(mu_);
    if (dead_) return;
    close_requested_ = true;
  }
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
  {
    std::lock_guard lock(mu_);
    close_requested_ = true;
  }
  run_close(code, reason);
}

void Connection::run_close(int code, const char* reason) {
  if (closing_ || finished_) return;
  closing_ = true;
  close_code_ = code;
  close_reason_ = reason ? reason : "closed";
  reading_ = false;
  bool overflowed = false;
  {
    std::lock_guard lock(mu_);
    overflowed = overflowed_;
  }
  if (overflowed) {
    finish(VSP_E_OVERFLOW, "send queue exceeded send_queue_bytes (" +
                               std::to_string(limits_.send_queue_bytes) + ")");
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
  {
    std::lock_guard lock(mu_);
    dead_ = true;
    pending_.clear();
    queued_bytes_ = 0;
  }
  writing_.clear();
  linger_.reset();
  watch_.reset();  // before close(): the host must stop watching an fd number that may be reused
  ::close(fd_);
  fd_ = -1;
  host_.api()->conn_closed(host_conn_, status, reason.c_str());
  on_finished_(this);
}

void Connection::abandon() noexcept {
  finished_ = true;
  {
    std::lock_guard lock(mu_);
    dead_ = true;
  }
  linger_.reset();
  watch_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace vespid::unix_transport
