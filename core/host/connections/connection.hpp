// The host's record of one transport connection: the facts the transport reported at open, the
// send path into the transport, and the core's per-connection state.
//
// The C handle `vsp_host_conn*` is a Connection*. The transport may call conn_closed at any time
// on its own thread while the core is sending on another, so every call into the transport's
// send/close happens under `send_mutex_`, and conn_closed flips `open_` under the same mutex:
// after conn_closed returns, no call into the transport for this connection is running or will
// start, which is what lets the transport free its side at once.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/end_of_turn.hpp"
#include "runtime/gateway_metrics.hpp"
#include "services/identity/principal.hpp"
#include "vespid/transport.h"

namespace vespid::core {

class Dialect;
class PluginInstance;

// Frames waiting for the previous frame's handler. Allocated on first use: most frames find
// the connection idle and are handled at once, and an empty std::deque already costs about
// 600 bytes, which 10,000 idle nodes would pay for nothing.
class FrameInbox {
 public:
  bool empty() const noexcept { return !q_ || q_->empty(); }
  std::size_t size() const noexcept { return q_ ? q_->size() : 0; }
  void push_back(std::string frame) {
    if (!q_) q_ = std::make_unique<std::deque<std::string>>();
    q_->push_back(std::move(frame));
  }
  std::string pop_front() {  // not empty()
    std::string frame = std::move(q_->front());
    q_->pop_front();
    return frame;
  }
  void clear() noexcept { q_.reset(); }

 private:
  std::unique_ptr<std::deque<std::string>> q_;
};

class Connection : public std::enable_shared_from_this<Connection>, public HeldOutput {
 public:
  // `shard`: the core's shard the connection belongs to for its whole life (ConnectionHub).
  Connection(uint64_t id, PluginInstance& transport, vsp_plugin_conn* plugin_conn,
             const vsp_conn_info& info, uint32_t shard = 0);

  vsp_host_conn* handle() noexcept { return reinterpret_cast<vsp_host_conn*>(this); }
  static Connection* from(vsp_host_conn* c) noexcept { return reinterpret_cast<Connection*>(c); }

  // ---- Immutable facts ----
  uint64_t id() const noexcept { return id_; }
  // The shard whose Sequencer runs this connection's core state (0 in a core of one shard).
  uint32_t shard() const noexcept { return shard_; }
  const std::string& dialect_name() const noexcept { return dialect_name_; }
  metrics::Dialect dialect_label() const noexcept { return dialect_label_; }
  const std::string& peer() const noexcept { return peer_; }
  // The peer's address without its port ("192.0.2.7", "::1"): what per-peer limits count by.
  std::string peer_host() const;
  const std::string& local() const noexcept { return local_; }
  uint32_t flags() const noexcept { return flags_; }
  const std::string& bearer_token() const noexcept { return bearer_; }
  const std::string& org_hint() const noexcept { return org_hint_; }
  const std::string& path() const noexcept { return path_; }
  const std::string& query() const noexcept { return query_; }
  const std::string& headers_json() const noexcept { return headers_json_; }
  bool wants_admission() const noexcept { return (flags_ & VSP_CONN_ADMISSION) != 0; }
  PluginInstance& transport() noexcept { return transport_; }

  // ---- Any thread ----
  // Sends one whole message. Returns the transport's status (VSP_E_CLOSED once closed).
  int send(std::string_view message);
  // A reply that may wait for the end of this thread's turn (runtime/end_of_turn.hpp), to leave
  // with the connection's other replies of the turn in one write. Outside a turn it is send().
  // Returns VSP_OK once held (VSP_E_CLOSED if closing); if the later write overflows the
  // transport's queue, the transport drops the connection as it would for send().
  int send_batched(std::string message);
  void release_held() noexcept override;
  // Asks the transport to close (flushing what is queued). Idempotent.
  void close(int code, const char* reason);
  // Answers a held handshake (VSP_CONN_ADMISSION) once: VSP_OK completes it, anything else
  // refuses it with the HTTP status and JSON body.
  void admit(int status, int http_status, const std::string& body);
  // Called from the transport's conn_closed: no transport call may follow. True when the core
  // had asked the transport to close it (close()), for the metrics' close reason.
  bool mark_transport_gone();
  bool closing() const noexcept { return closing_.load(); }

  // ---- Core state: touched only inside its shard's Sequencer ----
  Principal principal;
  Dialect* dialect = nullptr;
  FrameInbox inbox;                     // frames waiting for the previous one to finish
  bool busy = false;                    // a frame's handler is running
  bool pumping = false;                 // the inbox loop is on the stack
  bool gone = false;                    // conn_closed was processed
  std::string close_reason;             // the transport's, set just before Dialect::on_close
  bool counted_anonymous = false;       // in the hub's per-peer count of unauthenticated ones
  int64_t expiry_watched_ms = 0;        // the principal's expiry the hub's deadline is for
  uint64_t expiry_deadline = 0;         // Deadlines::Id of that deadline
  std::shared_ptr<void> dialect_state;  // per-dialect session data
  std::shared_ptr<Connection> self;     // keeps the record alive until conn_closed
  // A dialect's on_open refuses a held handshake by filling this; left empty, it is admitted.
  struct Refusal {
    int http_status = 401;
    std::string body;  // JSON
  };
  std::optional<Refusal> refusal;

  // Output that can wait: after send() said VSP_E_BUSY, a sender parks here until the transport
  // reports the queue drained (conn_writable) or the connection is gone; it checks `gone` when
  // it resumes. One wake-up resumes every parked sender, in the order they parked.
  struct WritableAwaiter {
    Connection& conn;
    bool await_ready() const noexcept { return conn.gone; }
    void await_suspend(std::coroutine_handle<> h) { conn.writable_waiters_.push_back(h); }
    void await_resume() const noexcept {}
  };
  WritableAwaiter writable() { return WritableAwaiter{*this}; }
  // Sequencer only: resumes the parked senders (the hub calls it on conn_writable and close).
  void wake_writers();

 private:
  uint64_t id_;
  uint32_t shard_;
  PluginInstance& transport_;
  vsp_plugin_conn* plugin_conn_;
  std::string dialect_name_, peer_, local_, bearer_, org_hint_, path_, query_, headers_json_;
  uint32_t flags_;
  metrics::Dialect dialect_label_;

  // A send's status as counted by the metrics (BUSY, OVERFLOW), then returned.
  int counted(int rc) noexcept;
  // Under send_mutex_: hands `extra` (if any) to the transport after what is held, in one
  // batch when the transport has send_batch.
  int write_held_locked(std::string_view extra, bool with_extra);

  std::mutex send_mutex_;
  bool open_ = true;               // guarded by send_mutex_
  bool close_requested_ = false;   // guarded by send_mutex_: close() was called
  std::vector<std::string> held_;  // guarded by send_mutex_: replies waiting for the turn's end
  std::atomic<bool> closing_{false};
  std::vector<std::coroutine_handle<>> writable_waiters_;  // Sequencer only
};

}  // namespace vespid::core
