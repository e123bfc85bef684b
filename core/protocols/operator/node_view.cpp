#include "protocols/operator/node_view.hpp"

#include "runtime/time.hpp"
#include "services/nodes/status_reason.hpp"

namespace vespid::core {

using nlohmann::json;

namespace {

nodes::StatusFacts online_facts(const nodes::ConnectedNode& live, const std::string& instance,
                                const std::string& self) {
  nodes::StatusFacts f;
  f.status = "online";
  f.instance = instance;
  f.elsewhere = !instance.empty() && instance != self;
  if (live.link) {
    f.transport = live.link->transport_name();
    f.remote_address = live.link->remote_address();
  }
  f.connected_at_ms = live.connected_at_ms;
  return f;
}

}  // namespace

json node_view(const nodes::NodeRecord& n, const nodes::NodeRouter& router,
               const std::string& self) {
  const nodes::ConnectedNode* live = n.revoked ? nullptr : router.find(n.node_id);
  const std::string status = n.revoked ? "revoked" : live != nullptr ? "online" : "offline";
  json j = nodes::to_public_json(n, status);
  nodes::StatusFacts f;
  if (live != nullptr) {
    const std::string instance = router.holder(n.node_id);
    f = online_facts(*live, instance.empty() ? self : instance, self);
    j["transport"] = f.transport;
    j["remoteAddress"] = f.remote_address;
    if (!f.instance.empty()) j["instance"] = f.instance;
    if (live->connected_at_ms > 0) j["connectedAt"] = util::iso8601(live->connected_at_ms);
  } else {
    f.status = status;
    f.last_seen_at = n.last_seen_at;
    f.revoked_at = n.revoked_at;
    if (auto d = router.last_departure(n.node_id)) {
      f.departure_reason = d->reason;
      f.departed_at_ms = d->at_ms;
    }
  }
  j["statusReason"] = nodes::status_reason(f);
  return j;
}

json presence_online(const nodes::ConnectedNode& live, const std::string& instance,
                     const std::string& self) {
  nodes::StatusFacts f = online_facts(live, instance, self);
  json j = {{"nodeId", live.node_id},
            {"orgId", live.org_id},
            {"kind", live.kind},
            {"status", "online"},
            {"statusReason", nodes::status_reason(f)}};
  if (!instance.empty()) j["instance"] = instance;
  if (live.connected_at_ms > 0) j["connectedAt"] = util::iso8601(live.connected_at_ms);
  return j;
}

json presence_offline(const nodes::ConnectedNode& node, const std::string& reason) {
  nodes::StatusFacts f;
  f.status = "offline";
  f.departure_reason = reason;
  f.last_seen_at = util::now_iso8601();  // it was connected until now
  return {{"nodeId", node.node_id},
          {"orgId", node.org_id},
          {"kind", node.kind},
          {"status", "offline"},
          {"statusReason", nodes::status_reason(f)}};
}

json presence_revoked(const nodes::NodeRecord& n) {
  nodes::StatusFacts f;
  f.status = "revoked";
  f.revoked_at = n.revoked_at;
  return {{"nodeId", n.node_id},
          {"orgId", n.org_id},
          {"kind", n.kind},
          {"status", "revoked"},
          {"statusReason", nodes::status_reason(f)}};
}

}  // namespace vespid::core
