// BridgeDialect: a paired node says hello declaring commands nobody approved (an upgraded app).
// The approved set stays authoritative, so those commands are refused, but silently ignoring
// them would leave the node broken for good: operators are asked to re-approve instead.
#include "host/connections/connection.hpp"
#include "protocols/bridge/bridge_dialect.hpp"
#include "runtime/logging.hpp"
#include "services/nodes/node_store.hpp"

namespace vespid::core {

using nlohmann::json;

Task<void> BridgeDialect::ask_about_new_commands(std::shared_ptr<Connection> conn,
                                                 nodes::NodeRecord node, json hello) {
  json claims = nodes::cleaned_claims(hello);
  if (nodes::unapproved_commands(node, claims).empty()) co_return;  // the usual hello
  try {
    Task<std::optional<nodes::PendingPairing>> t =
        store_.request_reapproval(node.node_id, std::move(claims), conn->peer());
    std::optional<nodes::PendingPairing> request = co_await std::move(t);
    if (!request) co_return;  // already asked, or a pairing request decides it
    std::string added;
    for (const auto& c : request->added_commands) added += (added.empty() ? "" : ", ") + c;
    log::get("core")->info(
        "node {} declares commands it was not approved for ({}); they stay unavailable until "
        "`vespid nodes approve {} --org ORG` (request expires with pairing.ttl_ms)",
        node.node_id, added, request->request_id);
    announce_(*request);
  } catch (const std::exception& e) {
    // The next hello asks again; the node works on with what it was approved for.
    log::get("core")->warn("node {}: re-approval of its new commands not recorded: {}",
                           node.node_id, e.what());
  }
}

}  // namespace vespid::core
