// BridgeDialect: `voicewake.changed`, pushed as the reference pushes it: the current triggers
// right after hello-ok, and the new ones to every node of the org after a voicewake.set.
#include "host/connections/connection.hpp"
#include "protocols/bridge/bridge_dialect.hpp"
#include "protocols/bridge/event_frame.hpp"
#include "runtime/logging.hpp"
#include "services/nodes/node_store.hpp"

namespace vespid::core {

using nlohmann::json;

Task<void> BridgeDialect::send_current_voicewake(std::shared_ptr<Connection> conn,
                                                 std::string org_id) {
  try {
    Task<json> t = store_.voicewake(org_id);
    json settings = co_await std::move(t);
    if (!conn->gone) conn->send(event_frame("voicewake.changed", settings));
  } catch (const std::exception& e) {
    // As in the reference, best effort: the node still has voicewake.get.
    log::get("core")->warn("voice wake triggers of org {} not sent to a new node: {}", org_id,
                           e.what());
  }
}

void BridgeDialect::push_voicewake(const std::string& org_id, const json& settings) {
  authenticated_.send_to_org(org_id, event_frame("voicewake.changed", settings));
}

}  // namespace vespid::core
