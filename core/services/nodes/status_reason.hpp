// The one sentence that says why a node is online, offline or revoked (a node's statusReason),
// for people looking at a device list: a bare "offline" leaves them guessing whether the node
// never paired, lost its network or was cut off by an operator.
#pragma once

#include <cstdint>
#include <string>

namespace vespid::nodes {

struct StatusFacts {
  std::string status;  // online | offline | revoked
  // Online: how it is connected. `transport` is the link's ("bridge", "ws"; "remote" for a node
  // another instance holds); `instance` the holder's cluster.instance_id.
  std::string transport, remote_address, instance;
  bool elsewhere = false;  // held by another gateway instance
  int64_t connected_at_ms = 0;
  // Offline: why its last connection here ended, when known (since this gateway started).
  std::string departure_reason;
  int64_t departed_at_ms = 0;
  std::string last_seen_at;  // ISO 8601 or empty
  std::string revoked_at;    // ISO 8601 or empty
};

// online:  "connected over bridge from 1.2.3.4:5678 since <time>", "connected over /ws from ...",
//          "connected to gateway instance gw-b since <time>";
// offline: "connection closed: <reason>", else "not connected since <lastSeenAt>", else
//          "never connected";
// revoked: "revoked <time>".
std::string status_reason(const StatusFacts& f);

}  // namespace vespid::nodes
