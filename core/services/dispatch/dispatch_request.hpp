// The body of POST /internal/v1/dispatch-async (and of the operator method dispatch.submit),
// parsed and checked. Field names are the reference's (docs/wire-facts.md).
//
// Two readings of one grammar. The typed one (read_dispatch_request) scans the body's text once
// and keeps the payload as the text it came in, which the execute frame carries on as it is: no
// DOM of the payload is built only to be written out again. It vouches only for a body it can
// accept as a whole; for anything else (an error, an escaped or repeated key, more members than
// a scan holds, a payload written over several lines) the caller takes the DOM reading
// (parse_dispatch_request), which owns every error message and writes the payload on one line.
// For a body both accept they give the same request (tests/unit/dispatch_request_test.cpp, and
// the json_scan fuzz harness on every input, fuzz/json_scan_fuzzer.cpp).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
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
  // The payload's JSON text (valid, no deeper than limits.json_max_depth), written into the
  // execute frame as it is; empty for none (the frame says null). Read it with payload():
  // when the typed reading took the bytes the body came in (a REST message, head and all), the
  // text is their span at payload_at, so that a payload as large as the body limit is not
  // copied out of them.
  std::string payload_json;
  std::string source_bytes;
  std::size_t payload_at = 0, payload_size = 0;
  std::string_view payload() const noexcept {
    return source_bytes.empty() ? std::string_view(payload_json)
                                : std::string_view(source_bytes).substr(payload_at, payload_size);
  }
  std::string connector_id;  // connector.action: the payload's connectorId; empty otherwise
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

// Throws api::ApiError INVALID_REQUEST naming the field and what was expected.
DispatchRequest parse_dispatch_request(const nlohmann::json& body, const RequestLimits& limits);

// The request in `body` (a JSON text) when the scan can take all of it and every field passes
// its check; nullopt otherwise, and then parse_dispatch_request of its DOM gives the answer.
std::optional<DispatchRequest> read_dispatch_request(std::string_view body,
                                                     const RequestLimits& limits);
// The same for the body that is `bytes` from `from` on, taking `bytes` into the request (its
// payload read in place, payload()) when the reading succeeds, and leaving it untouched when it
// returns nullopt (for the DOM's reading).
std::optional<DispatchRequest> read_dispatch_request(std::string& bytes, std::size_t from,
                                                     const RequestLimits& limits);

}  // namespace vespid::dispatch
