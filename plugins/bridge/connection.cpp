#include "connection.hpp"

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
}  // namespace

Connection::Connection(const ConnShared& shared, IoThread& io, std::string peer, std::string local)
    : shared_(shared),
      io_(io),
      peer_(std::move(peer)),
      local_(std::move(local)),
      framer_(shared.max_line_bytes),
      out_(shared.send_queue_bytes) {}

// ---- Opening -------------------------------------------------------------------------------

void Connection::start() {
  if (phase_ != Phase::init) return;
  stream_start();
}

void Connection::opened(std::uint32_t flags) {
  if (phase_ != Phase::init) return;
  if (out_.closing()) {  // the transport began stopping while we were handshaking
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
  out_.attach(shared_.host.api(), host_conn_);
  out_.allow_direct_writes();
  arm_read();
}

void Connection::abandon(const std::string& why) {
  if (phase_ == Phase::finished) return;
  phase_ = Phase::finished;
  out_.finish();
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
  if (phase_ != Phase::open || input_stopped_ || out_.closing()) return;
  // The host may hold the replies to these lines, and to the lines of every other connection
  // this thread reads in the same round, and write them together when the round ends.
  io_.join_round(shared_.host);
  const vsp::LineFramer::Result r = framer_.feed(data, n, [this](std::string_view line) {
    const int rc = shared_.host.api()->conn_recv(host_conn_, line.data(), line.size());
    if (rc == VSP_E_CLOSED) {
      input_stopped_ = true;  // the host is closing us; it wants nothing more
      return false;
    }
    // The host may have asked to close from inside conn_recv; stop handing it lines.
    return !out_.closing();
  });
  if (r == vsp::LineFramer::Result::overflow) protocol_overflow();
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
  // From another thread (the core answering on the thread that received the request), messages
  // for an idle connection go out now, in one write: posting them would wake this connection's
  // I/O thread, about 30 us on these machines, for every request and answer. Its own thread
  // keeps queueing, so everything sent in one turn leaves in one write. TLS has no direct fd.
  const vsp::Queued q = out_.send_lines(msgs, count, [this](const vsp_msg* m, std::size_t n) {
    if (io_.on_this_thread()) return std::size_t{0};
    return vsp::lines::write_now(direct_fd(), m, n);
  });
  try {
    if (q.status == VSP_E_OVERFLOW) {
      // Closing touches the socket and reports conn_closed: neither may happen inside send().
      boost::asio::post(io_.ctx, [self = shared_from_this()] {
        self->begin_close(VSP_E_OVERFLOW, "send queue overflow");
      });
    } else if (q.post_flush) {
      // Coalescing: everything sent before this runs leaves in the same write. From the
      // connection's own thread this is a push onto the thread's private queue (no lock, no
      // wake-up); from another thread it wakes the I/O thread once per turn, not per message.
      boost::asio::post(io_.ctx, [self = shared_from_this()] { self->flush(); });
    }
  } catch (const std::bad_alloc&) {
    if (q.status != VSP_E_OVERFLOW) out_.retry_post();  // queued; the next send posts the flush
  }
  return q.status;
}

void Connection::flush() {
  // Also lets the next send post a flush. A write in flight keeps its buffer; what was queued
  // meanwhile is taken when it completes.
  const std::string_view out = out_.take();
  if (phase_ == Phase::init || phase_ == Phase::finished || write_in_flight_) return;
  if (out.empty()) {
    maybe_drained();
    return;
  }
  write_in_flight_ = true;
  ++writes_;
  bytes_out_ += out.size();
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
  // Tells the host conn_writable when this brings a busy queue down to a quarter.
  if (out_.written(n)) {
    flush();  // what was queued while this write ran goes out now, in one write
  } else {
    maybe_drained();
  }
}

// ---- Closing -------------------------------------------------------------------------------

void Connection::request_close(int code, const char* reason) noexcept {
  if (!out_.request_close(code, reason)) return;
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
  out_.request_close(code, reason.c_str());  // from here on every send is VSP_E_CLOSED
  if (out_.overflowed()) {
    finish(VSP_E_OVERFLOW, out_.overflow_reason());
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
  if (!out_.empty()) return;  // a flush is posted for it
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
  out_.finish();
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
