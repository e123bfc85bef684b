#include "services/nodes/node_record.hpp"

#include "runtime/time.hpp"

namespace vespid::nodes {

using nlohmann::json;

namespace {
std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string() && !v.get<std::string>().empty() && v.get<std::string>().size() <= 128) {
      out.push_back(v.get<std::string>());
    }
    if (out.size() >= 256) break;  // a node cannot declare without bound
  }
  return out;
}
std::string text(const json& j, const char* key, size_t max = 256) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  std::string s = *it;
  return s.size() <= max ? s : s.substr(0, max);
}
}  // namespace

json to_stored_json(const NodeRecord& n) {
  return {{"nodeId", n.node_id},
          {"orgId", n.org_id},
          {"displayName", n.display_name},
          {"platform", n.platform},
          {"version", n.version},
          {"coreVersion", n.core_version},
          {"uiVersion", n.ui_version},
          {"deviceFamily", n.device_family},
          {"modelIdentifier", n.model_identifier},
          {"caps", n.caps},
          {"commands", n.commands},
          {"declinedCommands", n.declined_commands},
          {"permissions", n.permissions},
          {"capabilities", n.capabilities},
          {"tags", n.tags},
          {"tokenSha256", n.token_sha256},
          {"kind", n.kind},
          {"pairedAt", n.paired_at},
          {"lastSeenAt", n.last_seen_at},
          {"revoked", n.revoked},
          {"revokedAt", n.revoked_at}};
}

NodeRecord node_from(const json& j) {
  NodeRecord n;
  n.node_id = j.at("nodeId");
  n.org_id = j.value("orgId", "");
  n.display_name = j.value("displayName", "");
  n.platform = j.value("platform", "");
  n.version = j.value("version", "");
  n.core_version = j.value("coreVersion", "");
  n.ui_version = j.value("uiVersion", "");
  n.device_family = j.value("deviceFamily", "");
  n.model_identifier = j.value("modelIdentifier", "");
  n.caps = j.value("caps", std::vector<std::string>{});
  n.commands = j.value("commands", std::vector<std::string>{});
  n.declined_commands = j.value("declinedCommands", std::vector<std::string>{});
  n.permissions = j.value("permissions", json::object());
  n.capabilities = j.value("capabilities", json::object());
  n.tags = j.value("tags", std::vector<std::string>{});
  n.token_sha256 = j.value("tokenSha256", "");
  n.kind = j.value("kind", "bridge");
  n.paired_at = j.value("pairedAt", "");
  n.last_seen_at = j.value("lastSeenAt", "");
  n.revoked = j.value("revoked", false);
  n.revoked_at = j.value("revokedAt", "");
  return n;
}

json to_public_json(const NodeRecord& n, const std::string& status) {
  json j = {{"nodeId", n.node_id},    {"orgId", n.org_id},      {"displayName", n.display_name},
            {"caps", n.caps},         {"commands", n.commands}, {"permissions", n.permissions},
            {"tags", n.tags},         {"status", status},       {"kind", n.kind},
            {"pairedAt", n.paired_at}};
  auto opt = [&](const char* k, const std::string& v) {
    if (!v.empty()) j[k] = v;
  };
  opt("platform", n.platform);
  opt("version", n.version);
  opt("coreVersion", n.core_version);
  opt("uiVersion", n.ui_version);
  opt("deviceFamily", n.device_family);
  opt("modelIdentifier", n.model_identifier);
  opt("lastSeenAt", n.last_seen_at);
  opt("revokedAt", n.revoked_at);
  if (!n.capabilities.empty()) j["capabilities"] = n.capabilities;
  if (!n.declined_commands.empty()) j["declinedCommands"] = n.declined_commands;
  return j;
}

json to_stored_json(const PendingPairing& p) {
  return {{"requestId", p.request_id},
          {"nodeId", p.node_id},
          {"claims", p.claims},
          {"remoteAddress", p.remote_address},
          {"requestedAt", p.requested_at},
          {"expiresAtMs", p.expires_at_ms},
          {"silent", p.silent},
          {"owner", p.owner},
          {"reapproval", p.reapproval},
          {"addedCommands", p.added_commands},
          {"approvedCommands", p.approved_commands},
          {"orgId", p.org_id}};
}

PendingPairing pending_from(const json& j) {
  PendingPairing p;
  p.request_id = j.at("requestId");
  p.node_id = j.at("nodeId");
  p.claims = j.value("claims", json::object());
  p.remote_address = j.value("remoteAddress", "");
  p.requested_at = j.value("requestedAt", "");
  p.expires_at_ms = j.value("expiresAtMs", int64_t{0});
  p.silent = j.value("silent", false);
  p.owner = j.value("owner", "");
  p.reapproval = j.value("reapproval", false);
  p.added_commands = j.value("addedCommands", std::vector<std::string>{});
  p.approved_commands = j.value("approvedCommands", std::vector<std::string>{});
  p.org_id = j.value("orgId", "");
  return p;
}

json to_public_json(const PendingPairing& p) {
  json j = {{"requestId", p.request_id},
            {"nodeId", p.node_id},
            {"requestedAt", p.requested_at},
            {"expiresAt", util::iso8601(p.expires_at_ms)},
            {"silent", p.silent}};
  for (const char* k : {"displayName", "platform", "version", "deviceFamily", "modelIdentifier"}) {
    if (p.claims.contains(k) && p.claims[k].is_string()) j[k] = p.claims[k];
  }
  if (p.claims.contains("commands")) j["commands"] = p.claims["commands"];
  if (p.claims.contains("caps")) j["caps"] = p.claims["caps"];
  if (!p.remote_address.empty()) j["remoteAddress"] = p.remote_address;
  if (p.reapproval) {
    // `commands` is what approving grants, as for a first pairing: here only what is new.
    j["reapproval"] = true;
    j["orgId"] = p.org_id;
    j["addedCommands"] = p.added_commands;
    j["commands"] = p.added_commands;
    j["approvedCommands"] = p.approved_commands;
  }
  return j;
}

void apply_claims(NodeRecord& n, const json& c) {
  if (!c.is_object()) return;
  n.display_name = text(c, "displayName");
  n.platform = text(c, "platform");
  n.version = text(c, "version");
  n.core_version = text(c, "coreVersion");
  n.ui_version = text(c, "uiVersion");
  n.device_family = text(c, "deviceFamily");
  n.model_identifier = text(c, "modelIdentifier");
  n.caps = strings(c, "caps");
  n.commands = strings(c, "commands");
  if (auto it = c.find("permissions");
      it != c.end() && it->is_object() && it->dump().size() < 16384) {
    n.permissions = *it;
  }
}

json cleaned_claims(const json& hello) {
  NodeRecord n;
  apply_claims(n, hello);
  json c = json::object();
  auto put = [&c](const char* key, const std::string& v) {
    if (!v.empty()) c[key] = v;
  };
  put("displayName", n.display_name);
  put("platform", n.platform);
  put("version", n.version);
  put("coreVersion", n.core_version);
  put("uiVersion", n.ui_version);
  put("deviceFamily", n.device_family);
  put("modelIdentifier", n.model_identifier);
  c["caps"] = n.caps;
  c["commands"] = n.commands;
  if (!n.permissions.empty()) c["permissions"] = n.permissions;
  return c;
}

std::vector<std::string> unapproved_commands(const NodeRecord& n, const json& claims) {
  const std::set<std::string> known = [&n] {
    std::set<std::string> k(n.commands.begin(), n.commands.end());
    k.insert(n.declined_commands.begin(), n.declined_commands.end());
    return k;
  }();
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto& c : strings(claims, "commands")) {
    if (known.count(c) == 0 && seen.insert(c).second) out.push_back(std::move(c));
  }
  return out;
}

}  // namespace vespid::nodes
