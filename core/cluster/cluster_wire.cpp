#include "cluster/cluster_wire.hpp"

namespace vespid::cluster {

using nlohmann::json;

bool is_subject_token(std::string_view token) {
  if (token.empty() || token.size() > 64) return false;
  for (char c : token) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

json node_to_wire(const nodes::ConnectedNode& n) {
  return {{"nodeId", n.node_id}, {"orgId", n.org_id}, {"commands", n.commands},
          {"kind", n.kind},      {"tags", n.tags},    {"capabilities", n.capabilities.json()}};
}

nodes::ConnectedNode node_from_wire(const json& j) {
  nodes::ConnectedNode n;
  n.node_id = j.at("nodeId").get<std::string>();
  n.org_id = j.at("orgId").get<std::string>();
  n.commands = j.at("commands").get<std::set<std::string>>();
  n.kind = j.at("kind").get<std::string>();
  n.tags = j.at("tags").get<std::vector<std::string>>();
  n.capabilities = nodes::HostCapabilities(j.at("capabilities"));
  n.connected_at = std::chrono::steady_clock::now();
  return n;
}

std::string invoke_reply_to_wire(const nodes::InvokeResult& r) {
  if (r.ok) return "O" + r.payload_json;
  return "E" + r.error_code + "\n" + r.error_message;
}

nodes::InvokeResult invoke_reply_from_wire(std::string_view data) {
  nodes::InvokeResult r;
  if (!data.empty() && data[0] == 'O') {
    r.ok = true;
    r.payload_json.assign(data.substr(1));
    return r;
  }
  if (!data.empty() && data[0] == 'E') {
    std::string_view rest = data.substr(1);
    auto nl = rest.find('\n');
    r.error_code.assign(rest.substr(0, nl));
    if (nl != std::string_view::npos) r.error_message.assign(rest.substr(nl + 1));
    return r;
  }
  r.error_code = "UNAVAILABLE";
  r.error_message = "the node's instance sent an unreadable invoke reply";
  return r;
}

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace vespid::cluster
