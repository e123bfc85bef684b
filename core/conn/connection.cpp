#include "conn/connection.hpp"

#include <cstddef>

#include "plugin/plugin_instance.hpp"

namespace vespid::core {

const char* role_name(Role r) noexcept {
  switch (r) {
    case Role::Anonymous:
      return "anonymous";
    case Role::Operator:
      return "operator";
    case Role::LocalAdmin:
      return "local-admin";
    case Role::Internal:
      return "internal";
    case Role::Node:
      return "node";
  }
  return "?";
}

namespace {
std::string text(const char* s) {
  return s ? s : "";
}
}  // namespace

Connection::Connection(uint64_t id, PluginInstance& transport, vsp_plugin_conn* plugin_conn,
                       const vsp_conn_info& info)
    : id_(id),
      transport_(transport),
      plugin_conn_(plugin_conn),
      dialect_name_(text(info.dialect)),
      peer_(text(info.peer_address)),
      local_(text(info.local_address)),
      bearer_(text(info.bearer_token)),
      org_hint_(text(info.org_hint)),
      flags_(info.flags) {
  // Fields added after 1.0's first struct layout are read only if the transport's struct has them.
  if (info.struct_size >= offsetof(vsp_conn_info, headers_json) + sizeof(const char*)) {
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
  if (status != VSP_OK) closing_.store(true);
  t.admit(transport_.plugin(), plugin_conn_, status, http_status, body.data(), body.size());
}

int Connection::send(std::string_view message) {
  std::lock_guard lock(send_mutex_);
  if (!open_ || closing_.load()) return VSP_E_CLOSED;
  const auto& t = transport_.transport();
  int rc = t.send(transport_.plugin(), plugin_conn_, message.data(), message.size());
  // On overflow the transport drops the connection itself; stop sending to it.
  if (rc == VSP_E_OVERFLOW) closing_.store(true);
  return rc;
}

void Connection::close(int code, const char* reason) {
  std::lock_guard lock(send_mutex_);
  if (!open_ || closing_.exchange(true)) return;
  transport_.transport().close(transport_.plugin(), plugin_conn_, code, reason);
}

void Connection::mark_transport_gone() {
  std::lock_guard lock(send_mutex_);
  open_ = false;
  closing_.store(true);
}

}  // namespace vespid::core
