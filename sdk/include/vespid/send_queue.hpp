// vsp::SendQueue and vsp::MessageQueue: one connection's bounded output queue, the part of the
// `send` contract in transport.h that every transport has to get right:
//   - The host calls `send` on ANY thread; the socket belongs to one writer thread (the
//     transport's loop or I/O thread). The queue hands the bytes over, behind its own mutex.
//   - Coalescing: only the first send after a flush asks the transport to post a flush task to
//     the writer thread, so everything sent in one turn leaves in one write.
//   - Backpressure: a send that leaves more than half of the limit queued answers VSP_E_BUSY;
//     once the writer has brought the queue down to a quarter, the queue calls
//     host->conn_writable, once (not while closing: the host wants nothing more then).
//   - Overflow: a send that would pass the limit is not queued; it answers VSP_E_OVERFLOW and
//     marks the queue overflowed and closing. The transport then drops the connection without
//     flushing: a reader this slow is dropped, never buffered without bound.
//   - Closing: request_close() is a first-wins flag (with the host's code and reason); from then
//     on every send answers VSP_E_CLOSED, and the writer drains what is queued until empty().
//   - Partial writes: the writer takes what is queued, reports what the socket accepted, and
//     the queue keeps the unwritten rest first, so the order on the wire holds.
//
// SendQueue carries a byte stream of lines (each message plus '\n', see lines.hpp) in one
// contiguous buffer, written with one write per turn, and may let a foreign thread write to an
// idle socket at once. MessageQueue keeps whole messages apart, for framings that write one
// message at a time (a WebSocket text message per message).
//
// Threading rule. The queue has its own mutex and takes it inside each call: the caller needs
// no lock of its own around any of these calls, and must not hold one it also takes in code the
// queue calls back (the write_now callable). The queue never calls the host under its mutex.
//   ANY thread:         send_lines / send, request_close, closing, close_request, overflowed,
//                       finished, empty, claim_flush, retry_post, overflow_reason
//   writer thread only: attach, allow_direct_writes, take, unwritten, written, write_to, next,
//                       flush_running, finish
//
// A transport's send, in short (the flush task runs take()/written(), or write_to(), on the
// writer thread, and its close path drains until empty() before closing the socket):
//
//   vsp::Queued q = out_.send_lines(msgs, count);
//   if (q.status == VSP_E_OVERFLOW) post([self] { self->drop(out_.overflow_reason()); });
//   else if (q.post_flush && !post([self] { self->flush(); })) out_.retry_post();
//   return q.status;
#ifndef VESPID_SEND_QUEUE_HPP
#define VESPID_SEND_QUEUE_HPP

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vespid/host.h"
#include "vespid/lines.hpp"
#include "vespid/transport.h"

namespace vsp {

// What a send did, for the transport to act on.
struct Queued {
  // What the transport's `send` returns: VSP_OK, VSP_E_BUSY (queued, above the high-water
  // mark), VSP_E_OVERFLOW (not queued: drop the connection), VSP_E_CLOSED, VSP_E_NOMEM.
  int status = VSP_OK;
  // Post one flush task to the writer thread: this send is the first since the last flush.
  bool post_flush = false;
};

// The host's close request, as request_close() recorded it.
struct CloseRequest {
  int code = VSP_OK;
  std::string reason;
};

// The accounting and the close state the two queues share. Not used on its own.
class SendQueueBase {
 public:
  // busy above limit_bytes / 2, writable again at limit_bytes / 4, overflow past limit_bytes.
  explicit SendQueueBase(std::size_t limit_bytes) noexcept : limit_(limit_bytes) {}
  SendQueueBase(const SendQueueBase&) = delete;
  SendQueueBase& operator=(const SendQueueBase&) = delete;

  // Writer thread, once conn_open has succeeded: whom conn_writable goes to.
  void attach(const vsp_host_api* api, vsp_host_conn* conn) noexcept {
    api_ = api;
    conn_ = conn;
  }

  std::size_t limit() const noexcept { return limit_; }

  // Any thread. The first close wins: records code and reason and returns true; false once a
  // close was requested, the queue overflowed or the connection finished.
  bool request_close(int code = VSP_OK, const char* reason = nullptr) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_.load(std::memory_order_relaxed)) return false;
    set_closing_locked();
    close_.code = code;
    try {
      close_.reason = reason != nullptr ? reason : "";
    } catch (const std::bad_alloc&) {
      // The reason is for logs; the close itself must not fail.
    }
    return true;
  }

  // Any thread, without the mutex: a close was requested (or the queue overflowed, or the
  // connection finished). Cheap enough to ask between delivered messages.
  bool closing() const noexcept { return closing_.load(std::memory_order_acquire); }

  // Any thread: what the winning request_close() said.
  CloseRequest close_request() const {
    std::lock_guard<std::mutex> lock(mu_);
    return close_;
  }

  // Any thread: a send hit the limit; the connection is to be dropped without a flush.
  bool overflowed() const noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    return overflowed_;
  }

  // Any thread: finish() ran.
  bool finished() const noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    return dead_;
  }

  // Any thread: nothing is queued and nothing taken is left unwritten.
  bool empty() const noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    return queued_ == 0;
  }

  // Any thread: marks a flush task as on its way and returns true when none was; for a close
  // that wants the writer to run without a send.
  bool claim_flush() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    return !std::exchange(flush_posted_, true);
  }

  // Any thread: the flush task a send asked for could not be posted (no memory); the next send
  // asks again.
  void retry_post() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    flush_posted_ = false;
  }

  // Writer thread, first thing in a posted flush task (take() does it too): the next send posts
  // a new one.
  void flush_running() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    flush_posted_ = false;
  }

  // The reason a transport closes an overflowed connection with (names the config key).
  std::string overflow_reason() const {
    return "send queue exceeded send_queue_bytes (" + std::to_string(limit_) + ")";
  }

 protected:
  ~SendQueueBase() = default;

  void set_closing_locked() noexcept { closing_.store(true, std::memory_order_release); }

  // Under mu_: VSP_E_CLOSED or VSP_E_OVERFLOW (and marks it) when `bytes` more cannot be queued,
  // else VSP_OK.
  int admit_locked(std::size_t bytes) noexcept {
    if (closing_.load(std::memory_order_relaxed)) return VSP_E_CLOSED;
    if (queued_ + bytes <= limit_) return VSP_OK;
    overflowed_ = true;
    set_closing_locked();
    return VSP_E_OVERFLOW;
  }

  // Under mu_: `bytes` were queued.
  Queued queued_locked(std::size_t bytes) noexcept {
    Queued q;
    queued_ += bytes;
    if (queued_ > limit_ / 2) {
      busy_ = true;
      q.status = VSP_E_BUSY;
    }
    q.post_flush = !std::exchange(flush_posted_, true);
    return q;
  }

  // Under mu_: `bytes` left. Returns true when the host is owed conn_writable now.
  bool drained_locked(std::size_t bytes) noexcept {
    if (dead_) return false;
    queued_ -= bytes;
    if (!busy_ || queued_ > limit_ / 4) return false;
    busy_ = false;
    return !closing_.load(std::memory_order_relaxed);
  }

  // Outside mu_: the writable notification drained_locked asked for.
  void notify_writable() const noexcept {
    if (api_ != nullptr && conn_ != nullptr) api_->conn_writable(conn_);
  }

  // Under mu_: the connection is gone.
  void finish_locked() noexcept {
    dead_ = true;
    set_closing_locked();
    queued_ = 0;
    busy_ = false;
  }

  mutable std::mutex mu_;

  // Guarded by mu_.
  std::size_t queued_ = 0;            // bytes queued plus bytes taken but not yet written
  bool flush_posted_ = false;         // a flush task is on its way to the writer thread
  bool busy_ = false;                 // told the host VSP_E_BUSY: owes it conn_writable
  bool overflowed_ = false;           // a send hit the limit
  bool dead_ = false;                 // finished: every send is VSP_E_CLOSED
  CloseRequest close_;                // what the winning request_close() said
  std::atomic<bool> closing_{false};  // written under mu_, read without it

 private:
  const std::size_t limit_;
  // Writer thread (set before the first write, read only by written()).
  const vsp_host_api* api_ = nullptr;
  vsp_host_conn* conn_ = nullptr;
};

// A line transport's output: every message plus its '\n', in one contiguous buffer.
class SendQueue final : public SendQueueBase {
 public:
  using SendQueueBase::SendQueueBase;

  // Writer thread, once the connection is open: from now on a send from another thread may
  // write to the socket itself when nothing is queued or being written (see send_lines).
  void allow_direct_writes() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    direct_ = true;
  }

  // Any thread (the host's send/send_batch). Queues the lines of `count` messages.
  Queued send_lines(const vsp_msg* msgs, std::size_t count) noexcept {
    return send_lines(msgs, count, [](const vsp_msg*, std::size_t) { return std::size_t{0}; });
  }

  // The same, but first offers the lines to `write_now(msgs, count) -> size_t bytes written`
  // when direct writes are allowed and the socket is idle (nothing queued, nothing being
  // written), under the queue's mutex, so the order on the wire holds. The callable decides
  // whether this thread may write (usually: not the writer thread, whose own sends are better
  // coalesced into the next flush; and lines::write_now does the write). What it did not write
  // is queued, a partial line first.
  template <class WriteNow>
  Queued send_lines(const vsp_msg* msgs, std::size_t count, WriteNow&& write_now) noexcept {
    if (count == 0) return {};
    const std::size_t need = lines::wire_size(msgs, count);
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_.load(std::memory_order_relaxed)) return {VSP_E_CLOSED, false};
    std::size_t sent = 0;
    if (direct_ && pending_.empty() && !wire_busy_) {
      sent = write_now(msgs, count);
      if (sent == need) return {};
    }
    const std::size_t rest = need - sent;
    if (const int rc = admit_locked(rest); rc != VSP_OK) return {rc, false};
    try {
      pending_.reserve(pending_.size() + rest);
    } catch (const std::bad_alloc&) {
      return {VSP_E_NOMEM, false};
    }
    lines::append_unsent(pending_, msgs, count, sent);
    return queued_locked(rest);
  }

  // Writer thread. The bytes to write next: what is left of the last take, or, once that is
  // all written, everything queued since (then a flush posted from now on is a new one).
  // Valid until written() or finish().
  std::string_view take() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    flush_posted_ = false;
    if (dead_) return {};
    if (offset_ == writing_.size() && !pending_.empty()) {
      writing_.swap(pending_);  // pending_ takes the old write buffer: empty, at most 1 KiB
      offset_ = 0;
      wire_busy_ = true;
    }
    return unwritten();
  }

  // Writer thread: what take() returned and has not been reported written.
  std::string_view unwritten() const noexcept { return std::string_view(writing_).substr(offset_); }

  // Writer thread: the socket took the first `n` bytes of unwritten(). Calls conn_writable when
  // this brings the queue down to a quarter of the limit after a VSP_E_BUSY. Returns true when
  // more is waiting to be written (a rest, or bytes queued meanwhile).
  bool written(std::size_t n) noexcept {
    offset_ += n;
    const bool done = offset_ >= writing_.size();
    if (done) release_writing();
    bool writable = false;
    bool more = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (done) wire_busy_ = false;
      writable = drained_locked(n);
      more = !done || !pending_.empty();
    }
    if (writable) notify_writable();
    return more;
  }

  // Writer thread: writes what is queued to the non-blocking socket `fd` until all of it is out
  // or the socket is full. Returns 0, or the errno of a failed write (the caller closes).
  int write_to(int fd) noexcept {
    for (;;) {
      const std::string_view out = take();
      if (out.empty()) return 0;
      // MSG_NOSIGNAL: a vanished peer is EPIPE, not a SIGPIPE that kills the gateway.
      const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return errno;
      }
      written(static_cast<std::size_t>(n));
    }
  }

  // Writer thread: the connection is gone. Every send is VSP_E_CLOSED from now on, queued bytes
  // are dropped and nobody is owed conn_writable. What take() returned stays valid (a write
  // still in flight may point into it) until the queue is destroyed.
  void finish() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    finish_locked();
    std::string().swap(pending_);
    wire_busy_ = false;
  }

 private:
  // A write buffer this size or smaller is kept for reuse; a bigger one is freed, so an idle
  // connection holds at most this much per buffer.
  static constexpr std::size_t kKeepCapacity = 1024;

  void release_writing() noexcept {
    if (writing_.capacity() > kKeepCapacity) {
      std::string().swap(writing_);
    } else {
      writing_.clear();
    }
    offset_ = 0;
  }

  // Guarded by mu_.
  std::string pending_;     // lines queued since the last take
  bool wire_busy_ = false;  // writing_ holds bytes not yet written: no direct write may pass them
  bool direct_ = false;     // allow_direct_writes() was called

  // Writer thread only.
  std::string writing_;     // the bytes take() returned
  std::size_t offset_ = 0;  // of writing_, already written
};

// A message-framed transport's output: whole messages, written one at a time, in order.
class MessageQueue final : public SendQueueBase {
 public:
  using SendQueueBase::SendQueueBase;

  // Any thread (the host's send): queues a copy of one message.
  Queued send(std::string_view message) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    if (const int rc = admit_locked(message.size()); rc != VSP_OK) return {rc, false};
    try {
      pending_.emplace_back(message);
    } catch (const std::bad_alloc&) {
      return {VSP_E_NOMEM, false};
    }
    return queued_locked(message.size());
  }

  // Writer thread: the message to write next, or nullptr when nothing is queued. The same one
  // until written(). Takes everything queued at once when the last batch is done.
  const std::string* next() noexcept {
    if (index_ >= batch_.size()) {
      batch_.clear();
      index_ = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        batch_.swap(pending_);
      }
      if (batch_.empty()) {
        if (batch_.capacity() > kKeepMessages) std::vector<std::string>().swap(batch_);
        return nullptr;
      }
    }
    return &batch_[index_];
  }

  // Writer thread: up to `max` messages to write next, in order, for one gathered write (the
  // first is what next() returns); the same ones until written(count). {nullptr, 0} when
  // nothing is queued. They stay valid while the write is in flight, finish() or not.
  struct Batch {
    const std::string* messages;
    std::size_t count;
  };
  Batch next_batch(std::size_t max) noexcept {
    if (max == 0 || next() == nullptr) return {nullptr, 0};
    const std::size_t left = batch_.size() - index_;
    return {&batch_[index_], max < left ? max : left};
  }

  // Writer thread: the first `count` messages next() or next_batch() returned are out; frees
  // them and calls conn_writable when this brings the queue down to a quarter of the limit
  // after a VSP_E_BUSY.
  void written(std::size_t count = 1) noexcept {
    std::size_t size = 0;
    for (std::size_t i = 0; i < count; ++i) {
      size += batch_[index_].size();
      std::string().swap(batch_[index_]);
      ++index_;
    }
    bool writable = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      writable = drained_locked(size);
    }
    if (writable) notify_writable();
  }

  // Writer thread: the connection is gone. Every send is VSP_E_CLOSED from now on and queued
  // messages are dropped; the one next() returned stays valid for a write still in flight.
  void finish() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    finish_locked();
    pending_.clear();
  }

 private:
  // A batch array with room for more messages than this is freed once drained.
  static constexpr std::size_t kKeepMessages = 64;

  // Guarded by mu_.
  std::vector<std::string> pending_;  // messages queued since the last batch was taken

  // Writer thread only.
  std::vector<std::string> batch_;  // taken from pending_, written in order
  std::size_t index_ = 0;           // of batch_, the next to write
};

}  // namespace vsp

#endif  // VESPID_SEND_QUEUE_HPP
