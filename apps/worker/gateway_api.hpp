// The four internal routes the worker uses, as typed calls: claim a run (long-poll), checkpoint
// it, dispatch a node to a node host, wait for the node's result (long-poll). Every call sends
// `x-gateway-token` and opens its own connection, so any thread may call any of them at once.
// Nothing here retries: callers decide, because what to do after a failure depends on the call
// (docs/worker.md).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "web_client.hpp"

namespace vespid::worker {

// Where the gateway is and the token it wants.
struct GatewayEndpoint {
  web::WebTarget target;
  std::string base_path;  // the URL's path, without a trailing '/': routes are appended to it
  std::string url;        // as given, for log lines
  std::string token;      // the gateway's internal.token
};

// A call that did not get the answer the caller wanted.
struct ApiFailure {
  int status = 0;       // HTTP status; 0 when no answer came
  std::string code;     // the gateway's code; GATEWAY_UNREACHABLE, CANCELLED or BAD_ANSWER
  std::string message;  // the gateway's message, or the transport's reason
  nlohmann::json details;

  // "CODE: message (HTTP n)", for logs and node errors.
  std::string describe() const;
};

// Answers that say "ask again later": no answer, 5xx, 401/403 (a token being rotated or the
// internal routes not yet enabled), 429. The rest are the gateway's final word on that request.
bool is_transient(const ApiFailure& f);

struct ClaimedRun {
  nlohmann::json run;       // {id, organizationId, workflowId, attemptCount, maxAttempts, ...}
  nlohmann::json workflow;  // {id, organizationId, name, revision, dsl}
  std::string lease_token;

  std::string run_id() const;
  int attempt_count() const;  // >= 1
  int max_attempts() const;   // >= 1
};

struct ClaimAnswer {
  enum class Kind { claimed, none, failed };
  Kind kind = Kind::failed;
  ClaimedRun claimed;  // claimed
  ApiFailure failure;  // failed
};

struct CheckpointAnswer {
  enum class Kind { ok, lease_lost, canceled, not_found, refused, unavailable };
  Kind kind = Kind::unavailable;
  nlohmann::json run;         // ok: the run after the checkpoint
  std::vector<int64_t> seqs;  // ok: the seq of each event appended
  ApiFailure failure;         // otherwise
};

struct DispatchAnswer {
  enum class Kind { dispatched, already_in_flight, cached, no_agent, refused, unavailable };
  Kind kind = Kind::unavailable;
  std::string request_id;  // dispatched, already_in_flight, cached
  ApiFailure failure;      // no_agent (details.reason says why), refused, unavailable
};

struct ResultAnswer {
  enum class Kind { ready, not_ready, refused, unavailable };
  Kind kind = Kind::unavailable;
  bool succeeded = false;  // ready
  nlohmann::json output;   // ready and succeeded
  std::string error;       // ready and failed
  ApiFailure failure;      // refused, unavailable
};

using CancelTest = std::function<bool()>;

class GatewayApi {
 public:
  explicit GatewayApi(GatewayEndpoint endpoint);

  // POST /internal/v1/workflow-runs/claim. Held by the gateway up to wait_ms; `cancelled`
  // abandons it (a run the gateway gave us meanwhile is taken over after its lease).
  ClaimAnswer claim(const std::string& worker_id, int64_t lease_ms, int64_t wait_ms,
                    const CancelTest& cancelled) const;
  // POST /internal/v1/workflow-runs/:runId/checkpoint; `body` carries the leaseToken.
  CheckpointAnswer checkpoint(const std::string& run_id, const nlohmann::json& body) const;
  // POST /internal/v1/dispatch-async.
  DispatchAnswer dispatch(const nlohmann::json& body) const;
  // GET /internal/v1/results/:requestId?waitMs=N, N at most 25000.
  ResultAnswer result(const std::string& request_id, int64_t wait_ms,
                      const CancelTest& cancelled) const;

  const GatewayEndpoint& endpoint() const { return endpoint_; }

 private:
  web::HttpReply call(const std::string& method, const std::string& path,
                      const nlohmann::json* body, std::chrono::milliseconds timeout,
                      const CancelTest& cancelled) const;

  const GatewayEndpoint endpoint_;
};

// One path segment, percent-encoded (node ids may hold '/', '?', '#', spaces).
std::string encode_path_segment(const std::string& segment);

}  // namespace vespid::worker
