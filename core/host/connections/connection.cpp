#include "host/connections/connection.hpp"

#include <array>
#include <cstddef>

#include "host/plugins/plugin_instance.hpp"

namespace vespid::core {

namespace {
std::string text(const char* s) {
  return s ? s : "";
}
}  // namespace

Connection::Connection(uint64_t id, PluginInstance& transport, vsp_plugin_conn* plugin_conn,
                       const vsp_conn_info& info, uint32_t shard)
    : id_(id),
      shard_(shard),
      transport_(transport),
      plugin_conn_(plugin_conn),
      dialect_name_(text(info.dialect)),
      peer_(text(info.peer_address)),
      local_(text(info.local_address)),
      bearer_(text(info.bearer_token)),
      org_hint_(text(info.org_hint)),
      flags_(info.flags),
      dialect_label_(metrics::dialect_of(dialect_name_)) {
  // Fields added after 1.0's first struct layout are read only if the transport's struct has them.
  if (VSP_HAS_MEMBER(vsp_conn_info, &info, headers_json)) {
    path_ = text(info.path);
    query_ = text(info.query);
    headers_json_ = text(info.headers_json);
  }
}

void Connection::admit(int status, int http_status, const std::string& body) {
  std::lock_guard lock(send_mutex_);
  if (!open_) return;
  const auto& t = transport_.transport();
  if (t.admit == nullptr) return;
  if (!held_.empty() && !closing_.load()) write_held_locked({}, false);
  if (status != VSP_OK) {
    closing_.store(true);
    close_requested_ = true;  // the gateway refused it
  }
  t.admit(transport_.plugin(), plugin_conn_, status, http_status, body.data(), body.size());
}

int Connection::send(std::string_view message) {
  std::lock_guard lock(send_mutex_);
  if (!open_ || closing_.load()) return VSP_E_CLOSED;
  if (!held_.empty()) return write_held_locked(message, true);  // keeps the order
  const auto& t = transport_.transport();
  int rc = counted(t.send(transport_.plugin(), plugin_conn_, message.data(), message.size()));
  // On overflow the transport drops the connection itself; stop sending to it.
  if (rc == VSP_E_OVERFLOW) closing_.store(true);
  return rc;
}

int Connection::send_batched(std::string message) {
  if (!end_of_turn::active()) return send(message);
  bool first = false;
  {
    std::lock_guard lock(send_mutex_);
    if (!open_ || closing_.load()) return VSP_E_CLOSED;
    first = held_.empty();
    held_.push_back(std::move(message));
  }
  // Registered once per turn: later replies join the same held list.
  if (first) end_of_turn::hold(shared_from_this());
  return VSP_OK;
}

void Connection::release_held() noexcept {
  std::lock_guard lock(send_mutex_);
  if (held_.empty()) return;
  if (!open_ || closing_.load()) {
    held_.clear();
    return;
  }
  write_held_locked({}, false);
}

int Connection::write_held_locked(std::string_view extra, bool with_extra) {
  const auto& t = transport_.transport();
  const std::size_t count = held_.size() + (with_extra ? 1 : 0);
  // The batch's table: on the stack for the usual few replies of a turn, so that a write
  // allocates nothing of its own.
  constexpr std::size_t kOnStack = 16;
  std::array<vsp_msg, kOnStack> on_stack;
  std::vector<vsp_msg> on_heap;
  vsp_msg* msgs = on_stack.data();
  if (count > kOnStack) {
    on_heap.resize(count);
    msgs = on_heap.data();
  }
  std::size_t n = 0;
  for (const auto& m : held_) msgs[n++] = {m.data(), m.size()};
  if (with_extra) msgs[n++] = {extra.data(), extra.size()};
  int rc = VSP_OK;
  const bool has_batch =
      VSP_HAS_MEMBER(vsp_transport_vtbl, &t, send_batch) && t.send_batch != nullptr;
  if (has_batch) {
    rc = t.send_batch(transport_.plugin(), plugin_conn_, msgs, n);
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      rc = t.send(transport_.plugin(), plugin_conn_, msgs[i].data, msgs[i].len);
      if (rc != VSP_OK && rc != VSP_E_BUSY) break;
    }
  }
  counted(rc);
  held_.clear();
  if (held_.capacity() > 64) std::vector<std::string>().swap(held_);  // a burst's array goes
  if (rc == VSP_E_OVERFLOW) closing_.store(true);
  return rc;
}

void Connection::close(int code, const char* reason) {
  std::lock_guard lock(send_mutex_);
  if (!open_ || closing_.load()) return;
  if (!held_.empty()) write_held_locked({}, false);  // replies first, then the close
  if (closing_.exchange(true)) return;
  close_requested_ = true;
  transport_.transport().close(transport_.plugin(), plugin_conn_, code, reason);
}

bool Connection::mark_transport_gone() {
  std::lock_guard lock(send_mutex_);
  open_ = false;
  closing_.store(true);
  held_.clear();
  return close_requested_;
}

int Connection::counted(int rc) noexcept {
  if (rc == VSP_E_BUSY) {
    metrics::instruments().send_busy[dialect_label_].inc();
  } else if (rc == VSP_E_OVERFLOW) {
    metrics::instruments().send_overflows[dialect_label_].inc();
  }
  return rc;
}

std::string Connection::peer_host() const {
  // Transports write "host:port", "[v6]:port", or a path for local sockets.
  if (!peer_.empty() && peer_.front() == '[') {
    auto close = peer_.find(']');
    return close == std::string::npos ? peer_ : peer_.substr(1, close - 1);
  }
  auto colon = peer_.rfind(':');
  if (colon == std::string::npos || peer_.find(':') != colon) return peer_;
  return peer_.substr(0, colon);
}

void Connection::wake_writers() {
  std::vector<std::coroutine_handle<>> waiting;
  waiting.swap(writable_waiters_);
  for (auto h : waiting) h.resume();
}

}  // namespace vespid::core
