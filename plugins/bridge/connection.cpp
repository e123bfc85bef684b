#include "connection.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/post.hpp>
#include <utility>

#include "vespid/lines.hpp"

namespace vespid::bridge {

namespace {

using namespace std::chrono_literals;

// How long a closing connection may take to write out what is queued before it is cut off.
constexpr auto kDrainTimeout = 2000ms;
// After our side is shut, how long we read and discard so the peer can read our last lines
// instead of a reset.
constexpr auto kLingerTimeout = 2000ms;
// An output buffer this size or smaller is kept for reuse once written; bigger ones are freed, so
// an idle connection holds at most this much per buffer.
constexpr std::size_t kKeepCapacity = 1024;
// The most lines a foreign thread writes straight to the socket in one call (two iovecs each).
constexpr std::size_t kMaxDirectLines = 32;

void release(std::string& s) noexcept {
  if (s.capacity() > kKeepCapacity) {
    std::string().swap(s);
  } else {
    s.clear();
  }
}

}  // namespace

Connection::Connection(const ConnShared& shared, IoThread& io, std::string peer, std::string local)
    : shared_(shared),
      io_(io),
      peer_(std::move(peer)),
      local_(std::move(local)),
      framer_(shared.max_line_bytes) {}

// ---- Opening -------------------------------------------------------------------------------

void Connection::start() {
  if (phase_ != Phase::init) return;
  stream_start();
}

void Connection::opened(std::uint32_t flags) {
  if (phase_ != Phase::init) return;
  if (close_requested_.load()) {  // the transport began stopping while we were handshaking
    abandon("closed before it was opened: gateway stopping");
    return;
  }
  vsp_conn_info info{};
  info.struct_size = sizeof info;
  info.dialect = shared_.dialect.c_str();
  info.peer_address = peer_.c_str();
  info.local_address = local_.c_str();
  info.flags = flags;
  vsp_error err{};
  err.struct_size = sizeof err;
  vsp_host_conn* out = nullptr;
  const int rc =
      shared_.host.api()->conn_open(shared_.host.instance(), &info, handle(), &out, &err);
  if (rc != VSP_OK) {
    shared_.host.info("the gateway refused a connection from " + peer_ + ": " + err.message);
    abandon("refused by the gateway");
    return;
  }
  host_conn_ = out;
  phase_ = Phase::open;
  {
    std::lock_guard lock(mu_);
    open_for_direct_ = !dead_ && !close_requested_.load();
  }
  arm_read();
}

void Connection::abandon(const std::string& why) {
  if (phase_ == Phase::finished) return;
  phase_ = Phase::finished;
  {
    std::lock_guard lock(mu_);
    dead_ = true;
    open_for_direct_ = false;
  }
  if (timer_) timer_->cancel();
  stream_close();
  shared_.host.debug("dropped a connection from " + peer_ + ": " + why);
  shared_.on_gone(this);
}

// ---- Input ---------------------------------------------------------------------------------

bool Connection::want_read() const noexcept {
  switch (phase_) {
    case Phase::open:
      return !input_stopped_;
    case Phase::draining:
      return !peer_eof_;  // read and discard: notices a reset, keeps the peer unblocked
    case Phase::lingering:
      return !peer_eof_ && reads_while_lingering();
    default:
      return false;
  }
}

void Connection::arm_read() {
  if (read_armed_ || !want_read()) return;
  read_armed_ = true;
  stream_read();
}

void Connection::on_input(const char* data, std::size_t n) {
  // Closing (or the host asked to close from inside an earlier conn_recv): discard.
  if (phase_ != Phase::open || input_stopped_ || close_requested_.load()) return;
  // The host may hold the replies to these lines and write them together at the end.
  vsp::ReplyBatch batch(shared_.host);
  const LineFramer::Result r = framer_.feed(data, n, [this](std::string_view line) {
    const int rc = shared_.host.api()->conn_recv(host_conn_, line.data(), line.size());
    if (rc == VSP_E_CLOSED) {
      input_stopped_ = true;  // the host is closing us; it wants nothing more
      return false;
    }
    // The host may have asked to close from inside conn_recv; stop handing it lines.
    return !close_requested_.load(std::memory_order_relaxed);
  });
  if (r == LineFramer::Result::overflow) protocol_overflow();
}

void Connection::protocol_overflow() {
  input_stopped_ = true;
  framer_.reset();
  // Stop reading: nothing more from this peer makes sense. The host answers in the dialect's
  // form through send() and then calls close(); the close resumes reading (to discard) so the
  // peer still gets that answer.
  const std::string msg =
      "line exceeds max_line_bytes (" + std::to_string(shared_.max_line_bytes) + ")";
  shared_.host.api()->conn_protocol_error(host_conn_, VSP_E_OVERFLOW, msg.c_str());
}

void Connection::on_input_end(bool eof, const boost::system::error_code& ec) {
  switch (phase_) {
    case Phase::open:
      if (eof) {
        // A tail without its '\n' is not a whole line: dropped with the connection.
        peer_eof_ = true;
        framer_.reset();
        begin_close(VSP_OK, "peer closed the connection");
      } else {
        finish(VSP_E_IO, "read failed: " + ec.message());
      }
      return;
    case Phase::draining:
      if (eof) {
        peer_eof_ = true;  // it may still read: keep writing
      } else {
        finish(close_status_, close_reason_);
      }
      return;
    case Phase::lingering:
      peer_eof_ = true;
      on_linger_end();
      return;
    default:
      return;
  }
}

// ---- Output --------------------------------------------------------------------------------

int Connection::send(std::string_view message) noexcept {
  const vsp_msg one{message.data(), message.size()};
  return send_batch(&one, 1);
}

int Connection::send_batch(const vsp_msg* msgs, std::size_t count) noexcept {
  if (count == 0) return VSP_OK;
  const std::size_t need = vsp::lines::wire_size(msgs, count);
  const std::size_t limit = shared_.send_queue_bytes;
  bool post_flush = false;
  bool overflow = false;
  int rc = VSP_OK;
  {
    std::lock_guard lock(mu_);
    if (dead_ || close_requested_.load(std::memory_order_relaxed)) return VSP_E_CLOSED;
    // From another thread (the core answering on the thread that received the request),
    // messages for an idle connection go out now, in one write: posting them would wake this
    // connection's I/O thread, about 30 us on these machines, for every request and answer. Its
    // own thread keeps queueing, so everything sent in one turn leaves in one write.
    std::size_t sent = 0;
    if (open_for_direct_ && pending_.empty() && !wire_busy_ &&
        !io_.ctx.get_executor().running_in_this_thread()) {
      sent = write_direct(msgs, count);
      if (sent == need) return VSP_OK;
    }
    const std::size_t rest = need - sent;  // a partial line on the wire stays first
    if (queued_ + rest > limit) {
      // A reader this slow is dropped, never buffered without bound.
      overflowed_ = true;
      close_requested_ = true;
      overflow = true;
    } else {
      try {
        pending_.reserve(pending_.size() + rest);
      } catch (const std::bad_alloc&) {
        return VSP_E_NOMEM;
      }
      vsp::lines::append_unsent(pending_, msgs, count, sent);
      queued_ += rest;
      if (queued_ > limit / 2) {
        busy_ = true;
        rc = VSP_E_BUSY;
      }
      post_flush = !std::exchange(flush_posted_, true);
    }
  }
  try {
    if (overflow) {
      // Closing touches the socket and reports conn_closed: neither may happen inside send().
      boost::asio::post(io_.ctx, [self = shared_from_this()] {
        self->begin_close(VSP_E_OVERFLOW, "send queue overflow");
      });
      return VSP_E_OVERFLOW;
    }
    if (post_flush) {
      // Coalescing: everything sent before this runs leaves in the same write. From the
      // connection's own thread this is a push onto the thread's private queue (no lock, no
      // wake-up); from another thread it wakes the I/O thread once per turn, not per message.
      boost::asio::post(io_.ctx, [self = shared_from_this()] { self->flush(); });
    }
  } catch (const std::bad_alloc&) {
    if (overflow) return VSP_E_OVERFLOW;
    std::lock_guard lock(mu_);
    flush_posted_ = false;  // queued; the next send posts the flush
  }
  return rc;
}

std::size_t Connection::write_direct(const vsp_msg* msgs, std::size_t count) noexcept {
  const int fd = direct_fd();
  if (fd < 0 || count > kMaxDirectLines) return 0;  // a long batch goes through the queue
  static const char newline = '\n';
  iovec iov[2 * kMaxDirectLines];
  vsp::lines::gather(msgs, count, &newline, iov);
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2 * count;
  // Never blocks: a full socket buffer leaves the message to the queue and the I/O thread.
  const ssize_t n = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  // An error other than a full buffer is left for the I/O thread's own write to find and report.
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

void Connection::flush() {
  {
    std::lock_guard lock(mu_);
    flush_posted_ = false;
    if (phase_ == Phase::init || phase_ == Phase::finished || write_in_flight_) return;
    writing_.swap(pending_);  // pending_ takes the old write buffer: empty, at most 1 KiB
    wire_busy_ = !writing_.empty();
  }
  if (writing_.empty()) {
    maybe_drained();
    return;
  }
  write_in_flight_ = true;
  ++writes_;
  bytes_out_ += writing_.size();
  stream_write();
}

void Connection::on_written(const boost::system::error_code& ec, std::size_t n) {
  write_in_flight_ = false;
  if (phase_ == Phase::finished) return;
  if (ec) {
    if (phase_ == Phase::open) {
      finish(VSP_E_IO, "write failed: " + ec.message());
    } else {
      finish(close_status_, close_reason_);  // the peer is gone; nothing more can be delivered
    }
    return;
  }
  release(writing_);
  bool now_writable = false;
  bool more = false;
  {
    std::lock_guard lock(mu_);
    wire_busy_ = false;
    queued_ -= n;
    if (busy_ && queued_ <= shared_.send_queue_bytes / 4) {
      busy_ = false;
      now_writable = true;
    }
    more = !pending_.empty();
  }
  if (now_writable && phase_ == Phase::open && !close_requested_.load()) {
    shared_.host.api()->conn_writable(host_conn_);
  }
  if (more) {
    flush();  // what was queued while this write ran goes out now, in one write
  } else {
    maybe_drained();
  }
}

// ---- Closing -------------------------------------------------------------------------------

void Connection::request_close(int code, const char* reason) noexcept {
  {
    std::lock_guard lock(mu_);
    if (dead_ || close_requested_.load(std::memory_order_relaxed)) return;
    close_requested_ = true;
  }
  try {
    boost::asio::post(io_.ctx, [self = shared_from_this(), code,
                                why = std::string(reason ? reason : "closed")]() mutable {
      self->begin_close(code, std::move(why));
    });
  } catch (...) {
    // Only allocation can fail here; the host's shutdown timeout is the backstop.
  }
}

void Connection::begin_close(int code, std::string reason) {
  if (phase_ == Phase::init) {
    abandon("closed before it was opened: " + reason);
    return;
  }
  if (phase_ != Phase::open) return;
  bool overflowed = false;
  {
    std::lock_guard lock(mu_);
    close_requested_ = true;
    open_for_direct_ = false;
    overflowed = overflowed_;
  }
  if (overflowed) {
    finish(VSP_E_OVERFLOW, "send queue exceeded send_queue_bytes (" +
                               std::to_string(shared_.send_queue_bytes) + ")");
    return;
  }
  phase_ = Phase::draining;
  close_status_ = code;
  close_reason_ = std::move(reason);
  framer_.reset();
  arm_timer(kDrainTimeout);
  arm_read();  // read and discard (resumes reading stopped by an oversized line)
  flush();     // starts the write, or finds nothing queued and moves on to lingering
}

void Connection::maybe_drained() {
  if (phase_ != Phase::draining || write_in_flight_) return;
  {
    std::lock_guard lock(mu_);
    if (!pending_.empty()) return;  // a flush is posted for it
  }
  start_linger();
}

void Connection::start_linger() {
  phase_ = Phase::lingering;
  arm_timer(kLingerTimeout);
  stream_shutdown();
}

void Connection::on_linger_end() {
  if (phase_ == Phase::finished) return;
  finish(close_status_, close_reason_);
}

void Connection::arm_timer(std::chrono::milliseconds after) {
  if (!timer_) timer_ = std::make_unique<boost::asio::steady_timer>(io_.ctx);
  timer_->expires_after(after);  // cancels a pending wait
  // A wait that had already expired is not cancelled (its handler is queued); the generation
  // tells such a stale handler apart from the current one.
  const std::uint32_t gen = ++timer_gen_;
  timer_->async_wait([self = shared_from_this(), gen](const boost::system::error_code& ec) {
    if (!ec && gen == self->timer_gen_) self->on_timer();
  });
}

void Connection::on_timer() {
  switch (phase_) {
    case Phase::init:
      abandon("TLS handshake timed out");
      return;
    case Phase::draining:
      finish(close_status_, close_reason_ + " (output not drained in time)");
      return;
    case Phase::lingering:
      finish(close_status_, close_reason_);  // the peer kept its side open; enough
      return;
    default:
      return;
  }
}

void Connection::finish(int status, const std::string& reason) {
  if (phase_ == Phase::finished) return;
  phase_ = Phase::finished;
  {
    std::lock_guard lock(mu_);
    dead_ = true;
    open_for_direct_ = false;
    std::string().swap(pending_);
    queued_ = 0;
  }
  std::string().swap(writing_);
  framer_.reset();
  if (timer_) timer_->cancel();
  stream_close();
  shared_.host.debug("connection from " + peer_ + " closed: " + reason +
                     " (out: " + std::to_string(bytes_out_) + " bytes in " +
                     std::to_string(writes_) + " writes)");
  shared_.host.api()->conn_closed(host_conn_, status, reason.c_str());
  shared_.on_gone(this);
}

}  // namespace vespid::bridge
