// vespid.node.v1: node hosts (`vespid-agent`) on WebSocket /ws, wire-compatible with the
// reference agents (docs/agent-protocol.md).
//
//   upgrade  Authorization: Bearer <orgId>.<secret>; a wrong or revoked token gets HTTP 401 with
//            a JSON body before the upgrade completes
//   agent -> gateway  hello, ping, execute_received, execute_event, execute_result
//   gateway -> agent  pong, execute, execute_ack (after every result, once it is durable), error
//
// Better behaved than the reference: frames are handled in order; results are idempotent per
// requestId; a host can only complete its own org's requests; a revoked host is closed at once.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "host/connections/dialect.hpp"
#include "services/dispatch/host_result.hpp"

namespace vespid::nodes {
class LocalNodeRouter;
}
namespace vespid::dispatch {
class Dispatcher;
}

namespace vespid::node_hosts {

class NodeHostStore;

struct AgentDialectLimits {
  size_t max_capabilities_bytes = 16384;  // a larger hello.capabilities is ignored, not stored
};

class NodeHostDialect final : public core::Dialect {
 public:
  NodeHostDialect(NodeHostStore& store, nodes::LocalNodeRouter& router,
                  dispatch::Dispatcher& dispatcher, AgentDialectLimits limits = {});

  std::string_view name() const noexcept override { return "vespid.node.v1"; }
  core::Task<void> on_open(std::shared_ptr<core::Connection> conn) override;
  core::Task<void> on_message(std::shared_ptr<core::Connection> conn, std::string message) override;
  void on_protocol_error(core::Connection& conn, int status, const std::string& message) override;
  void on_overload(core::Connection& conn, const std::string& message) override;
  void on_frame_failed(core::Connection& conn, const std::string& code,
                       const std::string& message) override;
  void on_close(core::Connection& conn) override;

 private:
  struct Session;
  class Link;
  // The DOM reading of an execute_result (the frames the typed one does not vouch for).
  core::Task<void> on_result(std::shared_ptr<core::Connection> conn, nlohmann::json frame);
  // Stores a host's result and acknowledges it once durable.
  core::Task<void> store_result(std::shared_ptr<core::Connection> conn,
                                dispatch::HostResult result);
  void on_hello(core::Connection& conn, const nlohmann::json& frame);

  NodeHostStore& store_;
  nodes::LocalNodeRouter& router_;
  dispatch::Dispatcher& dispatcher_;
  AgentDialectLimits limits_;
};

}  // namespace vespid::node_hosts
