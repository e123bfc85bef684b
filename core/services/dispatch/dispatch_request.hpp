// The body of POST /internal/v1/dispatch-async (and of the operator method dispatch.submit),
// parsed and checked. Field names are the reference's (docs/wire-facts.md).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vespid::dispatch {

// Which node hosts may take the work. Stored tags are authoritative; every field set must match.
struct Selector {
  std::string tag;       // the host's stored tags contain it
  std::string group;     // the host's stored tags contain "group:<group>"
  std::string agent_id;  // exactly this host (a uuid, lower case)
  bool empty() const noexcept { return tag.empty() && group.empty() && agent_id.empty(); }
  nlohmann::json to_json() const;
};

struct DispatchRequest {
  // From parse_dispatch_request the four ids are uuids (util::is_uuid), as the reference
  // requires, the org in lower case; a session's turn fills them itself.
  std::string organization_id;
  std::string requested_by_user_id;
  std::string run_id, workflow_id;
  std::string node_id, node_type;
  int attempt_count = 1;
  std::string kind;  // connector.action | agent.execute | agent.run
  nlohmann::json payload;
  Selector selector;
  std::optional<std::string> secret;  // forwarded to the host, never stored or logged
  int64_t timeout_ms = 0;             // 0: dispatch.default_timeout_ms

  // "<runId>:<nodeId>:<attemptCount>": the same attempt is the same request everywhere.
  std::string request_id() const;
};

struct RequestLimits {
  int64_t min_timeout_ms = 1000;
  int64_t max_timeout_ms = 600000;
};

// Throws api::ApiError INVALID_REQUEST naming the field and what was expected. The body is taken
// by value so that a caller done with it hands its payload over instead of a copy.
DispatchRequest parse_dispatch_request(nlohmann::json body, const RequestLimits& limits);

}  // namespace vespid::dispatch
