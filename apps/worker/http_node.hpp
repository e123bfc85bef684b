// The `http.request` node, run by the worker itself: config {method, url, headers?, body?}.
// A real request through libs/clients (TLS always verified against the system's CAs), bounded
// in time (the node's timeout) and in size (kMaxHttpBodyBytes). Any HTTP status is a success:
// the output {status, body} lets a later condition branch on it. Redirects are not followed.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "gateway_api.hpp"

namespace vespid::worker {

// The response body is saved in the run's cursor, which the gateway bounds
// (workflows.max_state_bytes, 256 KiB by default), so a larger body fails the node.
inline constexpr std::uint64_t kMaxHttpBodyBytes = 192 * 1024;

struct HttpNodeResult {
  bool ok = false;
  nlohmann::json output;   // {status, body}: body is JSON when the answer says it is JSON and
                           // parses, else the text (null when empty)
  std::string error;       // "CODE: message"
  bool permanent = false;  // the config is at fault: another attempt fails the same way
};

HttpNodeResult run_http_request(const nlohmann::json& node_spec, int64_t timeout_ms,
                                const CancelTest& cancelled);

// What a request for `config` would be, without sending it (the checks run_http_request makes
// first). Exposed for the unit tests.
struct HttpRequestPlan {
  std::string error;  // empty when usable
  web::WebTarget target;
  std::string method, path;
  web::Headers headers;
  std::string body;
};
HttpRequestPlan plan_http_request(const nlohmann::json& config);

}  // namespace vespid::worker
