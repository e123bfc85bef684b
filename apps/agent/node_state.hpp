// What `vespid-agent node` keeps between runs, as the reference node host keeps
// ~/.clawdbot/node.json: `{version: 1, nodeId, token?, displayName?, gateway?: {host, port, tls,
// tlsFingerprint?}, allow?: [...]}`. The node id is made once and never changes (the gateway
// knows the node by it); the token is what pairing returned, a secret, so the file is 0600 in a
// 0700 directory and replaced atomically. `allow` is the allowlist of system.run, for users who
// would rather not repeat --allow (both are merged).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vespid::agent {

struct NodeGateway {
  std::string host;
  int port = 18790;
  bool tls = false;
  std::string tls_fingerprint;  // normalized SHA-256; empty: CA verification (if tls)
};

struct NodeState {
  std::string node_id;
  std::string token;  // empty: not paired (yet); never logged
  std::string display_name;
  std::optional<NodeGateway> gateway;  // where it last connected
  std::vector<std::string> allow;
};

class NodeStateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --state-file if given, else $VESPID_AGENT_NODE_STATE, else node.json in the directory of the
// node host's credentials file (~/.vespid/node.json).
std::string resolve_node_state_path(const std::string& flag_value,
                                    const std::string& credentials_path);

// A missing file is a new node (a fresh random id, nothing else); a file that cannot be read or
// is malformed throws NodeStateError: its token must not be dropped by accident.
NodeState load_node_state(const std::string& path);
// Throws NodeStateError.
void save_node_state(const std::string& path, const NodeState& state);

// A random UUID (version 4), the node id of a new node.
std::string new_node_id();

}  // namespace vespid::agent
