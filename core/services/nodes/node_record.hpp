// A paired node (a bridge device or a node host) and a pending pairing request, as stored.
// Stored metadata is authoritative: what a node claims at hello is a hint for display only.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace vespid::nodes {

struct NodeRecord {
  std::string node_id;
  std::string org_id;
  std::string display_name;
  std::string platform, version, core_version, ui_version, device_family, model_identifier;
  std::vector<std::string> caps;
  std::vector<std::string> commands;  // what the operator approved; the gateway invokes only these
  // Commands a later hello declared and an operator declined to add (a rejected re-approval):
  // not asked about again until the node pairs anew.
  std::vector<std::string> declined_commands;
  nlohmann::json permissions = nlohmann::json::object();
  // A node host's self-description at hello ({kinds, engines, connectors, maxInFlight, ...}):
  // a hint for routing, never a grant.
  nlohmann::json capabilities = nlohmann::json::object();
  std::vector<std::string> tags;  // set by operators; authoritative for routing
  std::string token_sha256;       // hex; empty once revoked
  std::string kind = "bridge";    // "bridge" (bridge.v1 device) or "agent" (vespid.node.v1 host)
  std::string paired_at;
  std::string last_seen_at;
  bool revoked = false;
  std::string revoked_at;
};

struct PendingPairing {
  std::string request_id;
  std::string node_id;
  nlohmann::json claims = nlohmann::json::object();  // what pair-request said (displayName, ...)
  std::string remote_address;
  std::string requested_at;
  int64_t expires_at_ms = 0;
  bool silent = false;
  // The connection that made the request (a per-process nonce and its connection id): only it
  // is told the decision, and a request from another connection never takes this one over.
  std::string owner;
  // A re-approval: a paired node's later hello declared commands it was never approved for
  // (an upgraded app). Approving adds `added_commands` to what the node may be invoked with;
  // it keeps its token, its org (`org_id`) and its connection. No connection waits on it.
  bool reapproval = false;
  std::vector<std::string> added_commands;
  std::vector<std::string> approved_commands;  // the node's approved set when it was asked
  std::string org_id;
};

nlohmann::json to_stored_json(const NodeRecord& n);
NodeRecord node_from(const nlohmann::json& j);
// The operator view: never includes the token hash. `status` is online/offline/revoked.
nlohmann::json to_public_json(const NodeRecord& n, const std::string& status);

nlohmann::json to_stored_json(const PendingPairing& p);
PendingPairing pending_from(const nlohmann::json& j);
nlohmann::json to_public_json(const PendingPairing& p);

// Fills a record's descriptive fields from a hello/pair-request frame (strings and string
// arrays only; anything malformed is ignored rather than stored).
void apply_claims(NodeRecord& n, const nlohmann::json& claims);

// What a hello says about the node, cleaned and bounded as apply_claims reads it (descriptive
// strings, caps, commands, permissions): what a re-approval request records.
nlohmann::json cleaned_claims(const nlohmann::json& hello);
// The commands `claims` declares that `n` was neither approved for nor declined, in the order
// declared.
std::vector<std::string> unapproved_commands(const NodeRecord& n, const nlohmann::json& claims);

}  // namespace vespid::nodes
