#include "workflow_calls.hpp"

#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "clock.hpp"
#include "operator_client.hpp"

namespace vespid::bench {

using nlohmann::json;

namespace {

// The user and workflow a bare dispatch names: fixed uuids, since the dispatch routes check no
// more than their form (as the dispatch scenario's).
constexpr const char* kBenchUserId = "b0000000-0000-4000-8000-000000000001";
constexpr const char* kBenchWorkflowId = "b0000000-0000-4000-8000-000000000002";
// The long-polls ask for the most the gateway gives (25 s), as vespid-worker and a follower do.
constexpr const char* kWaitMs = "25000";

// The gateway's error code in an answer, else its status ("HTTP_<status>").
std::string code_of(const HttpResponse& r) {
  const json b = json::parse(r.body, nullptr, false);
  if (b.is_object() && b.contains("code") && b["code"].is_string()) return b["code"];
  return "HTTP_" + std::to_string(r.status);
}

json parse_or_throw(const HttpResponse& r, const std::string& what) {
  json b = json::parse(r.body, nullptr, false);
  if (b.is_discarded()) throw std::runtime_error(what + ": the answer is not JSON: " + r.body);
  return b;
}

std::vector<std::string> bearer(const std::string& token) {
  return {"Authorization: Bearer " + token, "Content-Type: application/json"};
}

}  // namespace

std::string admin_token(const GatewayRunner& gw, const std::string& user) {
  auto admin = cli::OperatorClient::connect(gw.socket_path());
  try {
    admin.call("users.create", {{"name", user}, {"org", gw.org_id()}, {"role", "admin"}});
  } catch (const cli::OperatorError& e) {
    if (e.code != "CONFLICT") throw;  // made by an earlier run on this state directory
  }
  return admin.call("tokens.create", {{"user", user}, {"name", user}})["token"];
}

std::string create_published_workflow(int api_port, const std::string& org,
                                      const std::string& token, const std::string& name,
                                      const json& dsl) {
  const std::string base = "/v1/orgs/" + org + "/workflows";
  HttpResponse made =
      http_call(api_port, "POST", base, bearer(token), json{{"name", name}, {"dsl", dsl}}.dump());
  if (made.status != 201) {
    throw std::runtime_error("creating the workflow: " + std::to_string(made.status) + " " +
                             made.body);
  }
  const std::string id = parse_or_throw(made, "creating the workflow")["workflow"]["id"];
  HttpResponse pub = http_call(api_port, "POST", base + "/" + id + "/publish", bearer(token), "");
  if (pub.status != 200) {
    throw std::runtime_error("publishing the workflow: " + std::to_string(pub.status) + " " +
                             pub.body);
  }
  return id;
}

std::string random_uuid() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  const uint64_t a = gen(), b = gen();
  char text[37];
  // Version 4 in the third group, the RFC variant (8-b) in the fourth.
  std::snprintf(text, sizeof text, "%08llx-%04llx-4%03llx-%04llx-%012llx",
                static_cast<unsigned long long>(a >> 32),
                static_cast<unsigned long long>((a >> 16) & 0xffff),
                static_cast<unsigned long long>(a & 0xfff),
                static_cast<unsigned long long>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return text;
}

RunStarter::RunStarter(int api_port, std::string org, std::string workflow, std::string token)
    : pipe_(api_port),
      base_("/v1/orgs/" + org + "/workflows/" + workflow + "/runs"),
      headers_(bearer(token)) {}

FollowedRun RunStarter::run_once(const std::function<bool()>& closed) {
  FollowedRun out;
  const uint64_t t0 = now_ns();
  HttpResponse r =
      pipe_.call(http_request("POST", base_, headers_, R"({"input":{"from":"vespid-bench"}})"));
  out.post_ns = now_ns() - t0;
  if (r.status != 201) {
    out.status = code_of(r);
    return out;
  }
  out.run_id = parse_or_throw(r, "starting a run")["run"]["id"];
  // Follow the run as `vespid workflow run --wait` does: the events after the last seq read,
  // each long-poll answered as soon as the next checkpoint is stored.
  uint64_t cursor = 0;
  while (!closed()) {
    r = pipe_.call(http_request("GET",
                                base_ + "/" + out.run_id + "/events?cursor=" +
                                    std::to_string(cursor) + "&limit=1000&waitMs=" + kWaitMs,
                                headers_, ""));
    ++out.polls;
    if (r.status != 200) {
      out.status = code_of(r);
      return out;
    }
    const json b = parse_or_throw(r, "following a run");
    for (const auto& e : b["events"]) {
      cursor = e["seq"];
      const std::string type = e["eventType"];
      out.events.emplace_back(type, iso8601_ms(e.value("createdAt", "")));
      if (type == "run_succeeded") out.status = "succeeded";
      if (type == "run_failed") out.status = "failed";
      if (type == "run_canceled") out.status = "canceled";
    }
    // The verdict event ends the run; a null nextCursor says so too (the run ended and every
    // event was read).
    if (!out.status.empty()) return out;
    if (b["nextCursor"].is_null()) {
      out.status = "ENDED_WITHOUT_VERDICT";
      return out;
    }
  }
  out.status = "FOLLOW_ABANDONED";
  return out;
}

DispatchWaiter::DispatchWaiter(int api_port, std::string org, std::string internal_token,
                               json input)
    : pipe_(api_port),
      org_(std::move(org)),
      headers_({"x-gateway-token: " + internal_token, "Content-Type: application/json"}),
      input_(std::move(input)) {}

DispatchWaiter::Result DispatchWaiter::dispatch_once(const std::function<bool()>& closed) {
  Result out;
  // The body vespid-worker posts for the bench's node (apps/worker/host_payload.cpp): the
  // same kind and payload, so the two figures differ only in what the run adds around it.
  const std::string request_id = random_uuid() + ":n:1";
  const json body = {{"organizationId", org_},
                     {"requestedByUserId", kBenchUserId},
                     {"runId", request_id.substr(0, 36)},
                     {"workflowId", kBenchWorkflowId},
                     {"nodeId", "n"},
                     {"nodeType", "connector.action"},
                     {"attemptCount", 1},
                     {"kind", "connector.action"},
                     {"payload",
                      {{"connectorId", "echo"},
                       {"actionId", "say"},
                       {"input", input_},
                       {"env", {{"githubApiBaseUrl", "https://api.github.com"}}}}},
                     {"timeoutMs", 60000}};
  const uint64_t t0 = now_ns();
  HttpResponse r =
      pipe_.call(http_request("POST", "/internal/v1/dispatch-async", headers_, body.dump()));
  out.post_ns = now_ns() - t0;
  if (r.status != 201 && r.status != 200) {
    out.code = code_of(r);
    return out;
  }
  while (!closed()) {
    r = pipe_.call(http_request("GET", "/internal/v1/results/" + request_id + "?waitMs=" + kWaitMs,
                                headers_, ""));
    if (r.status == 404 && code_of(r) == "RESULT_NOT_READY") continue;
    if (r.status != 200) {
      out.code = code_of(r);
      return out;
    }
    const json b = parse_or_throw(r, "reading a result");
    out.ok = b.value("status", "") == "succeeded";
    if (!out.ok) out.code = "RESULT_" + b.value("status", std::string("UNKNOWN"));
    return out;
  }
  out.code = "WAIT_ABANDONED";
  return out;
}

std::map<std::string, uint64_t> count_runs(int api_port, const std::string& org,
                                           const std::string& workflow, const std::string& token) {
  std::map<std::string, uint64_t> by_status;
  HttpPipe pipe(api_port);
  const std::string base = "/v1/orgs/" + org + "/workflows/" + workflow + "/runs?limit=200";
  std::string cursor;
  do {
    const HttpResponse r = pipe.call(
        http_request("GET", cursor.empty() ? base : base + "&cursor=" + cursor, bearer(token), ""));
    if (r.status != 200) {
      throw std::runtime_error("listing runs: " + std::to_string(r.status) + " " + r.body);
    }
    const json b = parse_or_throw(r, "listing runs");
    for (const auto& run : b["runs"]) ++by_status[run.value("status", std::string("?"))];
    cursor = b["nextCursor"].is_string() ? b["nextCursor"].get<std::string>() : "";
  } while (!cursor.empty());
  return by_status;
}

int64_t iso8601_ms(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &y, &mo, &d, &h, &mi, &s, &ms) != 7) {
    return 0;
  }
  using namespace std::chrono;
  const sys_days day = year{y} / month{static_cast<unsigned>(mo)} / static_cast<unsigned>(d);
  return duration_cast<milliseconds>(day.time_since_epoch()).count() +
         ((h * 60 + mi) * 60 + s) * 1000LL + ms;
}

}  // namespace vespid::bench
