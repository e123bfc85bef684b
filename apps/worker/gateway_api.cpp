#include "gateway_api.hpp"

#include <algorithm>

namespace vespid::worker {

using nlohmann::json;

namespace {

// Beyond the time the gateway may hold a long-poll, how long its answer may take to arrive.
constexpr std::chrono::milliseconds kAnswerMargin{15'000};
// A plain call (checkpoint, dispatch): the gateway answers once storage has committed.
constexpr std::chrono::milliseconds kCallTimeout{15'000};
// The gateway's own cap on waitMs for claims and results.
constexpr int64_t kMaxWaitMs = 25'000;
// Answers are small JSON; a body over this is not one of them.
constexpr std::uint64_t kMaxAnswerBytes = 16ull * 1024 * 1024;

// Boost's "connect: Connection refused [system:111 at /usr/include/boost/...]" without the
// bracket, which says where in Boost it was seen (the CLI does the same).
std::string plain_reason(const std::string& reason) {
  const auto bracket = reason.rfind(" [");
  if (bracket == std::string::npos || reason.empty() || reason.back() != ']') return reason;
  if (reason.find(" at ", bracket) == std::string::npos) return reason;
  return reason.substr(0, bracket);
}

// The gateway's errors are flat {code, message, details?} (design.md); anything else is named
// by its status.
ApiFailure failure_of(const web::HttpReply& r) {
  ApiFailure f;
  f.status = r.status;
  if (r.status == 0) {
    f.code = r.cancelled ? "CANCELLED" : "GATEWAY_UNREACHABLE";
    f.message = plain_reason(r.error);
    return f;
  }
  const json& b = r.body;
  f.code = b.is_object() && b.contains("code") && b["code"].is_string()
               ? b["code"].get<std::string>()
               : "HTTP_" + std::to_string(r.status);
  f.message = b.is_object() && b.contains("message") && b["message"].is_string()
                  ? b["message"].get<std::string>()
                  : r.raw_body.substr(0, 300);
  if (b.is_object() && b.contains("details")) f.details = b["details"];
  return f;
}

ApiFailure bad_answer(const web::HttpReply& r, const std::string& why) {
  ApiFailure f;
  f.status = r.status;
  f.code = "BAD_ANSWER";
  f.message = why;
  return f;
}

int int_member(const json& j, const char* key, int fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int>() : fallback;
}

}  // namespace

std::string ApiFailure::describe() const {
  std::string s = code;
  if (!message.empty()) s += ": " + message;
  if (status != 0) s += " (HTTP " + std::to_string(status) + ")";
  return s;
}

bool is_transient(const ApiFailure& f) {
  if (f.code == "BAD_ANSWER") return false;
  return f.status == 0 || f.status >= 500 || f.status == 401 || f.status == 403 || f.status == 429;
}

std::string ClaimedRun::run_id() const {
  return run.value("id", "");
}
int ClaimedRun::attempt_count() const {
  return std::max(1, int_member(run, "attemptCount", 1));
}
int ClaimedRun::max_attempts() const {
  return std::max(1, int_member(run, "maxAttempts", 1));
}

std::string encode_path_segment(const std::string& segment) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : segment) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '@';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

GatewayApi::GatewayApi(GatewayEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

web::HttpReply GatewayApi::call(const std::string& method, const std::string& path,
                                const json* body, std::chrono::milliseconds timeout,
                                const CancelTest& cancelled) const {
  web::Headers headers = {{"x-gateway-token", endpoint_.token}, {"accept", "application/json"}};
  std::string text;
  if (body != nullptr) {
    // Replace rather than throw on invalid UTF-8: a node's output must not crash the worker.
    text = body->dump(-1, ' ', false, json::error_handler_t::replace);
    headers["content-type"] = "application/json";
  }
  web::HttpOptions options;
  options.timeout = timeout;
  options.max_body_bytes = kMaxAnswerBytes;
  options.cancelled = cancelled;
  return web::http_request(endpoint_.target, method, endpoint_.base_path + path, headers, text,
                           options);
}

ClaimAnswer GatewayApi::claim(const std::string& worker_id, int64_t lease_ms, int64_t wait_ms,
                              const CancelTest& cancelled) const {
  wait_ms = std::clamp<int64_t>(wait_ms, 0, kMaxWaitMs);
  const json body = {{"workerId", worker_id}, {"leaseMs", lease_ms}, {"waitMs", wait_ms}};
  const web::HttpReply r = call("POST", "/internal/v1/workflow-runs/claim", &body,
                                std::chrono::milliseconds(wait_ms) + kAnswerMargin, cancelled);
  ClaimAnswer a;
  if (r.status != 200) {
    a.failure = failure_of(r);
    return a;
  }
  const json& b = r.body;
  if (!b.is_object() || !b.contains("run")) {
    a.failure = bad_answer(r, "the claim answer has no \"run\"");
    return a;
  }
  if (b["run"].is_null()) {
    a.kind = ClaimAnswer::Kind::none;
    return a;
  }
  if (!b["run"].is_object() || !b["run"].value("id", json()).is_string() ||
      !b.value("leaseToken", json()).is_string() || !b.value("workflow", json()).is_object()) {
    a.failure = bad_answer(r, "the claim answer lacks run.id, workflow or leaseToken");
    return a;
  }
  a.kind = ClaimAnswer::Kind::claimed;
  a.claimed.run = b["run"];
  a.claimed.workflow = b["workflow"];
  a.claimed.lease_token = b["leaseToken"];
  return a;
}

CheckpointAnswer GatewayApi::checkpoint(const std::string& run_id, const json& body) const {
  const web::HttpReply r =
      call("POST", "/internal/v1/workflow-runs/" + encode_path_segment(run_id) + "/checkpoint",
           &body, kCallTimeout, nullptr);
  CheckpointAnswer a;
  if (r.status == 200) {
    a.kind = CheckpointAnswer::Kind::ok;
    if (r.body.is_object()) {
      a.run = r.body.value("run", json());
      for (const json& s : r.body.value("seqs", json::array()))
        if (s.is_number_integer()) a.seqs.push_back(s.get<int64_t>());
    }
    return a;
  }
  a.failure = failure_of(r);
  if (a.failure.code == "LEASE_LOST") {
    a.kind = CheckpointAnswer::Kind::lease_lost;
  } else if (a.failure.code == "RUN_CANCELED") {
    a.kind = CheckpointAnswer::Kind::canceled;
  } else if (a.failure.code == "RUN_NOT_FOUND") {
    a.kind = CheckpointAnswer::Kind::not_found;
  } else if (is_transient(a.failure)) {
    a.kind = CheckpointAnswer::Kind::unavailable;
  } else {
    a.kind = CheckpointAnswer::Kind::refused;
  }
  return a;
}

DispatchAnswer GatewayApi::dispatch(const json& body) const {
  const web::HttpReply r =
      call("POST", "/internal/v1/dispatch-async", &body, kCallTimeout, nullptr);
  DispatchAnswer a;
  if (r.status == 200 || r.status == 201) {
    const json& b = r.body;
    if (!b.is_object() || !b.value("requestId", json()).is_string()) {
      a.kind = DispatchAnswer::Kind::refused;
      a.failure = bad_answer(r, "the dispatch answer has no requestId");
      return a;
    }
    a.request_id = b["requestId"];
    if (b.value("cached", false)) {
      a.kind = DispatchAnswer::Kind::cached;
    } else if (b.value("alreadyInFlight", false)) {
      a.kind = DispatchAnswer::Kind::already_in_flight;
    } else {
      a.kind = DispatchAnswer::Kind::dispatched;
    }
    return a;
  }
  a.failure = failure_of(r);
  if (a.failure.code == "NO_AGENT_AVAILABLE") {
    a.kind = DispatchAnswer::Kind::no_agent;
  } else if (is_transient(a.failure)) {
    a.kind = DispatchAnswer::Kind::unavailable;
  } else {
    a.kind = DispatchAnswer::Kind::refused;
  }
  return a;
}

ResultAnswer GatewayApi::result(const std::string& request_id, int64_t wait_ms,
                                const CancelTest& cancelled) const {
  wait_ms = std::clamp<int64_t>(wait_ms, 0, kMaxWaitMs);
  const web::HttpReply r =
      call("GET",
           "/internal/v1/results/" + encode_path_segment(request_id) +
               "?waitMs=" + std::to_string(wait_ms),
           nullptr, std::chrono::milliseconds(wait_ms) + kAnswerMargin, cancelled);
  ResultAnswer a;
  if (r.status == 200) {
    const json& b = r.body;
    const std::string status = b.is_object() ? b.value("status", "") : "";
    if (status != "succeeded" && status != "failed") {
      a.kind = ResultAnswer::Kind::refused;
      a.failure = bad_answer(r, "the result has no status succeeded or failed");
      return a;
    }
    a.kind = ResultAnswer::Kind::ready;
    a.succeeded = status == "succeeded";
    a.output = b.value("output", json());
    if (!a.succeeded) {
      const json e = b.value("error", json());
      a.error = e.is_string() ? e.get<std::string>()
                : e.is_null() ? "NODE_EXECUTION_FAILED"
                              : e.dump();
    }
    return a;
  }
  a.failure = failure_of(r);
  if (r.status == 404 && a.failure.code == "RESULT_NOT_READY") {
    a.kind = ResultAnswer::Kind::not_ready;
  } else if (is_transient(a.failure)) {
    a.kind = ResultAnswer::Kind::unavailable;
  } else {
    a.kind = ResultAnswer::Kind::refused;
  }
  return a;
}

}  // namespace vespid::worker
