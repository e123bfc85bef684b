// The texts a dispatch writes on its way out: the `execute` frame to the node host and the
// dispatch record kept until the result. Written as text, byte for byte what dumping the
// equivalent DOM gives (members in name order), so the listener's resume state is not copied
// into a DOM only to be dumped. The execute frame's payload is the request's payload text as it
// came (DispatchRequest::payload_json), so its members keep the caller's order and spacing.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "services/dispatch/dispatch_request.hpp"

namespace vespid::dispatch {

// `execute {type, requestId, organizationId, userId, kind, payload, secret?}`; strings that are
// not UTF-8 are replaced, as dump() with the replace handler does (the payload's text is UTF-8:
// its reading checked it).
std::string execute_frame(const std::string& request_id, const DispatchRequest& r);

struct DispatchRecord {
  std::string request_id, org_id, agent_id, kind;
  int64_t deadline_ms = 0;
  std::string dispatched_at;  // ISO 8601
  std::string instance;       // empty: not written
  nlohmann::json resume;      // null: not written
};
// The stored record {requestId, orgId, agentId, kind, deadlineMs, dispatchedAt, instance?,
// resume?}. Throws json::type_error where a string is not UTF-8, as dump() does.
std::string record_text(const DispatchRecord& d);

}  // namespace vespid::dispatch
