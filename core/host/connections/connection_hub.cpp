#include "host/connections/connection_hub.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "host/plugins/plugin_instance.hpp"
#include "runtime/api_error.hpp"
#include "runtime/deadlines.hpp"
#include "runtime/logging.hpp"
#include "runtime/loop.hpp"
#include "runtime/time.hpp"
#include "storage/storage_service.hpp"

namespace vespid::core {

namespace {
void set_error(vsp_error* err, int status, const std::string& msg) {
  if (err == nullptr) return;
  err->status = status;
  std::snprintf(err->message, sizeof err->message, "%s", msg.c_str());
}

// The last line of "every frame gets an answer": a handler's error that no code above caught
// goes back to the peer in its dialect's form. Only a defect (INTERNAL) is logged as an error;
// the others are the peer's input or the storage's state and are the peer's to read.
void answer_failed_frame(Connection& c, std::exception_ptr e) {
  std::string code = "INTERNAL";
  std::string message = "the gateway could not handle this frame";
  try {
    std::rethrow_exception(e);
  } catch (const api::ApiError& ex) {
    code = ex.code();
    message = ex.what();
  } catch (const nlohmann::json::exception& ex) {
    // A field of an unexpected type or shape that a handler read without checking.
    code = "INVALID_REQUEST";
    message = std::string("a field has the wrong type or shape: ") + ex.what();
  } catch (const StorageError& ex) {
    code = "UNAVAILABLE";
    message = std::string("storage: ") + ex.what();
  } catch (const std::exception& ex) {
    log::get("core")->error("connection {}: frame handler failed: {}", c.id(), ex.what());
  } catch (...) {
    log::get("core")->error("connection {}: frame handler failed", c.id());
  }
  if (code != "INTERNAL")
    log::get("core")->debug("connection {}: frame refused ({}): {}", c.id(), code, message);
  if (c.gone || c.closing()) return;
  c.dialect->on_frame_failed(c, code, message);
}

// The transport's close status (plugins/*/README.md: VSP_OK for the peer's close, VSP_E_IO for a
// failed read or write or a silent peer, VSP_E_OVERFLOW for a full send queue, VSP_E_CLOSED when
// it stops), or the status the gateway closed it with when it asked (`asked`).
metrics::CloseReason close_reason(int status, bool asked) {
  using R = metrics::CloseReason;
  if (status == VSP_E_OVERFLOW) return R::Overflow;
  if (status == VSP_E_CLOSED) return R::Shutdown;
  if (asked) return R::Gateway;
  if (status == VSP_OK) return R::Peer;
  if (status == VSP_E_IO || status == VSP_E_TIMEOUT) return R::Error;
  return R::Other;
}
}  // namespace

ConnectionHub::ConnectionHub(Loop& loop, Limits limits)
    : ConnectionHub(std::vector<Shard>{Shard{&loop.sequencer(), nullptr}}, limits) {}

ConnectionHub::ConnectionHub(std::vector<Shard> shards, Limits limits)
    : limits_(limits), assignment_(static_cast<uint32_t>(shards.size())) {
  if (shards.empty()) throw std::invalid_argument("a connection hub needs at least one shard");
  shards_.reserve(shards.size());
  for (const Shard& s : shards) {
    ShardState state;
    static_cast<Shard&>(state) = s;
    shards_.push_back(std::move(state));
  }
}

ConnectionHub::ShardState* ConnectionHub::current_shard() noexcept {
  for (ShardState& s : shards_) {
    if (s.sequencer->running_in_this_thread()) return &s;
  }
  return nullptr;
}

void ConnectionHub::add_dialect(std::unique_ptr<Dialect> dialect) {
  std::string name(dialect->name());
  dialects_[name] = std::move(dialect);
}

std::string ConnectionHub::known_dialects() const {
  std::string out;
  for (const auto& [name, d] : dialects_) out += (out.empty() ? "" : ", ") + name;
  return out;
}

int ConnectionHub::open(PluginInstance& transport, const vsp_conn_info& info, vsp_plugin_conn* pc,
                        vsp_host_conn** out, vsp_error* err) {
  auto it = dialects_.find(std::string_view(info.dialect));
  if (it == dialects_.end()) {
    set_error(err, VSP_E_INVALID,
              std::string("unknown dialect \"") + info.dialect + "\" (this gateway speaks " +
                  known_dialects() + ")");
    return VSP_E_INVALID;
  }
  if ((info.flags & VSP_CONN_ADMISSION) && transport.transport().admit == nullptr) {
    set_error(err, VSP_E_INVALID, "transport asked for admission but has no admit function");
    return VSP_E_INVALID;
  }
  if (refusing_.load()) {
    metrics::instruments().connections_refused[metrics::Refusal::Shutdown].inc();
    set_error(err, VSP_E_CLOSED, "the gateway is shutting down");
    return VSP_E_CLOSED;
  }
  if (count_.fetch_add(1) >= limits_.max_connections) {
    count_.fetch_sub(1);
    metrics::instruments().connections_refused[metrics::Refusal::Limit].inc();
    set_error(err, VSP_E_OVERFLOW,
              "too many connections (limits.max_connections = " +
                  std::to_string(limits_.max_connections) + ")");
    return VSP_E_OVERFLOW;
  }
  const uint32_t shard = assignment_.for_this_thread(&transport);
  auto conn = std::make_shared<Connection>(next_id_.fetch_add(1), transport, pc, info, shard);
  conn->dialect = it->second.get();
  conn->self = conn;
  *out = conn->handle();
  metrics::instruments().connections_opened[conn->dialect_label()].inc();
  sequencer_of(*conn).execute([this, conn] {
    shard_of(*conn).conns.emplace(conn->id(), conn);
    log::get("core")->debug("connection {} opened: {} from {} via {}", conn->id(),
                            conn->dialect_name(), conn->peer(), conn->transport().name());
    // The open task is the connection's first "frame": later frames wait for it, so a
    // handshake's authentication completes before anything else is handled.
    conn->busy = true;
    spawn(
        conn->dialect->on_open(conn),
        [this, conn] {
          conn->busy = false;
          if (!conn->refusal && !count_anonymous(*conn)) {
            const std::string why = "too many unauthenticated connections from " +
                                    conn->peer_host() + " (limits.max_anonymous_per_peer = " +
                                    std::to_string(limits_.max_anonymous_per_peer) + ")";
            if (conn->wants_admission()) {
              conn->admit(VSP_E_OVERFLOW, 503,
                          nlohmann::json{{"code", "UNAVAILABLE"}, {"message", why}}.dump());
            } else {
              conn->dialect->on_frame_failed(*conn, "UNAVAILABLE", why);
              conn->close(VSP_E_OVERFLOW, "too many unauthenticated connections");
            }
            return;
          }
          watch_expiry(conn);
          if (conn->wants_admission()) {
            if (conn->refusal) {
              conn->admit(VSP_E_PERMISSION, conn->refusal->http_status, conn->refusal->body);
              return;
            }
            conn->admit(VSP_OK, 101, {});
          }
          pump(conn);
        },
        [conn](std::exception_ptr) {
          log::get("core")->error("connection {}: handshake failed", conn->id());
          conn->busy = false;
          if (conn->wants_admission()) {
            conn->admit(VSP_E_INTERNAL, 503,
                        R"({"code":"UNAVAILABLE","message":"handshake failed"})");
          } else {
            conn->close(VSP_E_INTERNAL, "handshake failed");
          }
        });
  });
  return VSP_OK;
}

int ConnectionHub::recv(vsp_host_conn* c, const char* data, size_t len) {
  Connection* raw = Connection::from(c);
  if (raw->closing()) return VSP_E_CLOSED;
  auto conn = raw->shared_from_this();
  const std::string_view frame(data, len);
  // The usual case: the connection's shard is free, so the frame is handled on this thread while
  // the transport still holds its bytes; it is copied only when it has to wait for the core.
  Sequencer& sequencer = sequencer_of(*raw);
  if (sequencer.run_if_idle([&] { deliver(conn, frame, nullptr); })) return VSP_OK;
  sequencer.execute([this, conn, msg = std::string(frame)]() mutable { deliver(conn, msg, &msg); });
  return VSP_OK;
}

void ConnectionHub::deliver(const std::shared_ptr<Connection>& conn, std::string_view frame,
                            std::string* owned) {
  if (conn->gone || conn->closing()) return;
  auto take = [&] { return owned != nullptr ? std::move(*owned) : std::string(frame); };
  if (conn->inbox.size() >= static_cast<size_t>(limits_.queue_depth)) {
    metrics::instruments().inbox_overflows[conn->dialect_label()].inc();
    conn->dialect->on_overload(*conn,
                               "too many frames waiting on this connection "
                               "(limits.connection_queue_depth = " +
                                   std::to_string(limits_.queue_depth) + ")");
    conn->close(VSP_E_OVERFLOW, "too many queued frames");
    return;
  }
  if (!conn->busy && !conn->pumping && conn->inbox.empty()) {
    // Nothing ahead of this frame, so it is handled now, never queued: at once by the dialect
    // when it is a hot frame, else by a task of its own.
    conn->pumping = true;
    if (!handled_now(conn, frame)) run_frame(conn, take());
    conn->pumping = false;
    pump(conn);
    return;
  }
  conn->inbox.push_back(take());
  pump(conn);
}

bool ConnectionHub::handled_now(const std::shared_ptr<Connection>& c, std::string_view frame) {
  c->busy = true;  // as for any frame: nothing else of this connection runs meanwhile
  bool handled = false;
  try {
    handled = c->dialect->on_message_now(*c, frame);
  } catch (...) {
    answer_failed_frame(*c, std::current_exception());
    handled = true;
  }
  c->busy = false;
  if (handled) after_handler(c);
  return handled;
}

bool ConnectionHub::count_anonymous(Connection& c) {
  if (c.principal.role != Role::Anonymous || c.dialect->authenticates_each_message()) return true;
  std::lock_guard lock(anonymous_mutex_);
  int& n = anonymous_by_peer_[c.peer_host()];
  if (n >= limits_.max_anonymous_per_peer) {
    log::get("core")->warn("connection {} from {} refused: {} unauthenticated ones already open",
                           c.id(), c.peer(), n);
    return false;
  }
  ++n;
  c.counted_anonymous = true;
  return true;
}

void ConnectionHub::settle_anonymous(Connection& c) {
  if (!c.counted_anonymous) return;
  if (!c.gone && c.principal.role == Role::Anonymous) return;
  c.counted_anonymous = false;
  std::lock_guard lock(anonymous_mutex_);
  auto it = anonymous_by_peer_.find(c.peer_host());
  if (it != anonymous_by_peer_.end() && --it->second <= 0) anonymous_by_peer_.erase(it);
}

void ConnectionHub::watch_expiry(const std::shared_ptr<Connection>& c) {
  const int64_t expires = c->principal.expires_at_ms;
  Deadlines* deadlines = shard_of(*c).deadlines;
  if (deadlines == nullptr || c->gone || expires == c->expiry_watched_ms) return;
  deadlines->cancel(c->expiry_deadline);
  c->expiry_watched_ms = expires;
  c->expiry_deadline = 0;
  if (expires == 0) return;
  const auto delay = std::chrono::milliseconds(std::max<int64_t>(0, expires - util::now_ms()));
  std::weak_ptr<Connection> weak = c;
  c->expiry_deadline = deadlines->after(delay, [weak, expires] {
    auto conn = weak.lock();
    if (!conn || conn->gone || conn->principal.expires_at_ms != expires) return;
    log::get("core")->info("connection {} closed: its access token {} expired", conn->id(),
                           conn->principal.token_id);
    conn->dialect->on_frame_failed(*conn, "UNAUTHORIZED",
                                   "the access token expired; connect again with a valid one");
    conn->close(VSP_E_PERMISSION, "the access token expired");
  });
}

void ConnectionHub::pump(const std::shared_ptr<Connection>& c) {
  if (c->pumping) return;  // the loop below is already on the stack and will continue
  c->pumping = true;
  while (!c->busy && !c->inbox.empty() && !c->gone) {
    std::string msg = c->inbox.pop_front();
    if (!handled_now(c, msg)) run_frame(c, std::move(msg));
  }
  c->pumping = false;
}

void ConnectionHub::run_frame(const std::shared_ptr<Connection>& c, std::string msg) {
  c->busy = true;
  handle_frame(c, c->dialect->on_message(c, std::move(msg)));
}

// One coroutine frame per frame handled (spawn() with its two callbacks took three allocations).
// If the handler finishes synchronously, this only clears `busy` and the caller's loop goes on;
// if it finishes later, it restarts the loop. No recursion either way.
detail::Detached ConnectionHub::handle_frame(std::shared_ptr<Connection> c, Task<void> handler) {
  std::exception_ptr failure;
  try {
    co_await std::move(handler);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) answer_failed_frame(*c, failure);
  c->busy = false;
  after_handler(c);
  if (!c->pumping) pump(c);
}

void ConnectionHub::closed(vsp_host_conn* c, int status, const char* reason) {
  Connection* raw = Connection::from(c);
  const bool asked = raw->mark_transport_gone();
  metrics::instruments()
      .connections_closed[raw->dialect_label()][close_reason(status, asked)]
      .inc();
  auto conn = raw->shared_from_this();
  std::string why = reason ? reason : "";
  sequencer_of(*conn).execute([this, conn, status, why] {
    conn->gone = true;
    conn->close_reason = why;
    conn->inbox.clear();
    conn->dialect->on_close(*conn);
    conn->wake_writers();  // parked senders see `gone` and stop
    settle_anonymous(*conn);
    ShardState& shard = shard_of(*conn);
    if (shard.deadlines != nullptr) shard.deadlines->cancel(conn->expiry_deadline);
    shard.conns.erase(conn->id());
    count_.fetch_sub(1);
    log::get("core")->debug("connection {} closed ({}{}{})", conn->id(), status,
                            why.empty() ? "" : ": ", why);
    conn->self.reset();
  });
}

void ConnectionHub::writable(vsp_host_conn* c) {
  Connection* raw = Connection::from(c);
  auto conn = raw->shared_from_this();
  sequencer_of(*conn).execute([conn] {
    if (!conn->gone) conn->wake_writers();
  });
}

void ConnectionHub::protocol_error(vsp_host_conn* c, int status, const char* message) {
  Connection* raw = Connection::from(c);
  if (raw->closing()) return;
  auto conn = raw->shared_from_this();
  std::string msg = message ? message : "protocol error";
  sequencer_of(*conn).execute([conn, status, msg] {
    if (conn->gone) return;
    conn->dialect->on_protocol_error(*conn, status, msg);
    conn->close(status, msg.c_str());
  });
}

void ConnectionHub::close_all(const char* reason) {
  for_each([reason](Connection& c) { c.close(VSP_E_CLOSED, reason); });
}

}  // namespace vespid::core
