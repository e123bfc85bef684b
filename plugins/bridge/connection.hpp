// One accepted bridge peer: JSONL framing in, a bounded output queue out, and the close sequence.
// The socket side (plain TCP or TLS) is a subclass; everything here except send() and
// request_close() runs on the connection's own I/O thread, so its handlers never race each other.
//
// Output: a vsp::SendQueue (the SDK's, <vespid/send_queue.hpp>) holds the bytes, the limits and
// the busy/writable accounting. send() appends to its one contiguous pending buffer (uncontended
// when the caller is the I/O thread itself) and posts at most one flush per loop turn; the flush
// takes the buffer and writes it with one write, so everything queued in one turn leaves in one
// syscall (for TLS one SSL_write: a record per 16 KiB). A caller on the connection's own thread
// never wakes another thread: with a concurrency hint of 1 asio puts a same-thread post on the
// thread's private queue.
//
// Close: drain what is queued (bounded), half-close our side (TLS: close_notify), read and
// discard until the peer closes (bounded), close the socket, then conn_closed exactly once,
// always from a handler of the I/O thread, never from inside send() or close().
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vespid/line_framer.hpp>
#include <vespid/plugin.hpp>
#include <vespid/send_queue.hpp>

#include "io_pool.hpp"

namespace vespid::bridge {

class Connection;

// What every connection of one instance shares (one copy per instance, not per connection).
struct ConnShared {
  vsp::Host host;
  std::string dialect;
  std::size_t max_line_bytes = 0;
  std::size_t send_queue_bytes = 0;
  // I/O thread, once per connection, after conn_closed (or after giving up on a connection the
  // host never opened): the owner drops its reference.
  std::function<void(Connection*)> on_gone;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(const ConnShared& shared, IoThread& io, std::string peer, std::string local);
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  vsp_plugin_conn* handle() noexcept { return reinterpret_cast<vsp_plugin_conn*>(this); }
  static Connection* from(vsp_plugin_conn* c) noexcept { return reinterpret_cast<Connection*>(c); }
  IoThread& io() noexcept { return io_; }
  const std::string& peer() const noexcept { return peer_; }

  // I/O thread, once, right after accept: the TLS handshake if any, then conn_open and reading.
  void start();

  // Any thread (the host's `send`): queues one message and its '\n'.
  int send(std::string_view message) noexcept;
  // Any thread (the host's `send_batch`): the same for `count` messages, written together.
  int send_batch(const vsp_msg* msgs, std::size_t count) noexcept;
  // Any thread (the host's `close`, or the transport stopping): flush, linger, close, report.
  void request_close(int code, const char* reason) noexcept;

 protected:
  enum class Phase : std::uint8_t {
    init,       // accepted; TLS handshake running; the host does not know it yet
    open,       // conn_open succeeded
    draining,   // closing: writing out what is queued
    lingering,  // closing: our side is shut, waiting for the peer to close
    finished,   // socket closed, conn_closed reported (or the host never knew it)
  };

  // ---- The socket side, implemented by the subclasses; all on the I/O thread. ----
  virtual void stream_start() = 0;     // then opened(flags), or abandon()
  virtual void stream_read() = 0;      // one read; then read_settled() and on_input*/arm_read()
  virtual void stream_write() = 0;     // write all of writing(); then on_written()
  virtual void stream_shutdown() = 0;  // half-close; then on_linger_end() once the peer closed
  virtual void stream_close() noexcept = 0;  // close the socket now; pending handlers abort
  // Whether the subclass keeps its own reads going while lingering (TLS reads in its shutdown).
  virtual bool reads_while_lingering() const noexcept { return true; }
  // The socket a send() from another thread may write to directly (plain TCP), or -1 (TLS: the
  // SSL object belongs to the I/O thread). Closed only after out_.finish(): a send writes to it
  // under the queue's mutex, and only while the queue is open.
  virtual int direct_fd() const noexcept { return -1; }

  // ---- Called by the subclasses. ----
  void opened(std::uint32_t flags);
  void abandon(const std::string& why);
  void read_settled() noexcept { read_armed_ = false; }
  void arm_read();
  void on_input(const char* data, std::size_t n);
  void on_input_end(bool eof, const boost::system::error_code& ec);
  void on_written(const boost::system::error_code& ec, std::size_t n);
  void on_linger_end();
  bool finished() const noexcept { return phase_ == Phase::finished; }
  Phase phase() const noexcept { return phase_; }
  bool peer_eof() const noexcept { return peer_eof_; }
  bool read_armed() const noexcept { return read_armed_; }
  // Arms the one timer (handshake, drain or linger deadline).
  void arm_timer(std::chrono::milliseconds after);
  // Cancels and frees the timer (an open, idle connection keeps none).
  void drop_timer() noexcept {
    ++timer_gen_;
    timer_.reset();
  }

  // I/O thread, while a write is in flight: the bytes being written.
  std::string_view writing() const noexcept { return out_.unwritten(); }

  const ConnShared& shared_;

 private:
  void begin_close(int code, std::string reason);
  void flush();
  void maybe_drained();
  void start_linger();
  void on_timer();
  void protocol_overflow();
  void finish(int status, const std::string& reason);
  bool want_read() const noexcept;

  IoThread& io_;
  const std::string peer_;
  const std::string local_;
  vsp_host_conn* host_conn_ = nullptr;
  vsp::LineFramer framer_;
  std::unique_ptr<boost::asio::steady_timer> timer_;  // created on first use: idle ones have none
  std::uint32_t timer_gen_ = 0;
  std::string close_reason_;
  int close_status_ = VSP_OK;

  // I/O thread only.
  Phase phase_ = Phase::init;
  bool read_armed_ = false;
  bool input_stopped_ = false;  // overflow, or the host refused input: deliver nothing more
  bool peer_eof_ = false;
  bool write_in_flight_ = false;
  std::uint32_t writes_ = 0;  // gathered writes issued (for the close log line)
  std::uint64_t bytes_out_ = 0;

  // Any thread, under the queue's own mutex (see send_queue.hpp): the output, the limits, the
  // busy/writable accounting and the close request. Closed for direct writes until opened().
  vsp::SendQueue out_;
};

}  // namespace vespid::bridge
