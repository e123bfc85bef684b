#include "protocols/rest/workflow_run_routes.hpp"

#include <memory>

#include "protocols/rest/rest_auth.hpp"
#include "protocols/rest/session_routes.hpp"
#include "protocols/rest/workflow_routes.hpp"
#include "runtime/api_error.hpp"
#include "runtime/json_input.hpp"
#include "services/workflows/run_service.hpp"

namespace vespid::workflows {

using core::RestRequest;
using core::RestResponse;
using core::Task;
using nlohmann::json;

namespace {

// A non-negative integer query parameter, or `fallback` when absent.
int64_t query_int(const std::map<std::string, std::string>& q, const std::string& name,
                  int64_t fallback, int64_t max) {
  auto it = q.find(name);
  if (it == q.end() || it->second.empty()) return fallback;
  if (it->second.size() > 16 || it->second.find_first_not_of("0123456789") != std::string::npos ||
      std::stoll(it->second) > max) {
    throw api::invalid("\"" + name + "\" must be an integer from 0 to " + std::to_string(max),
                       {{"field", name}});
  }
  return std::stoll(it->second);
}

class RunRoutes {
 public:
  RunRoutes(repo::Repository& repo, RunService& runs, std::string token_sha256)
      : repo_(repo), runs_(runs), token_sha256_(std::move(token_sha256)) {}

  Task<Caller> caller(RestRequest req) { return workflow_caller(repo_, std::move(req)); }

  Task<RestResponse> start(RestRequest req) {
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    json body = req.body().empty() ? json::object() : core::json_body(req);
    Task<json> t = runs_.start(std::move(c), req.params.at(1), std::move(body));
    json run = co_await std::move(t);
    co_return RestResponse{201, {{"run", run}}};
  }

  Task<RestResponse> list(RestRequest req) {
    auto q = sessions::parse_query(req.query);
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    Task<json> t =
        runs_.list(std::move(c), req.params.at(1), static_cast<int>(query_int(q, "limit", 50, 200)),
                   q.count("cursor") ? q["cursor"] : "");
    json out = co_await std::move(t);
    co_return RestResponse{200, out};
  }

  Task<RestResponse> get(RestRequest req) {
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    Task<json> t = runs_.get(std::move(c), req.params.at(1), req.params.at(2));
    json run = co_await std::move(t);
    co_return RestResponse{200, {{"run", run}}};
  }

  // ?cursor= (or afterSeq=): the last seq already read; ?limit= up to 1000; ?waitMs= up to
  // 25000: a long-poll answered as soon as the next events are stored.
  Task<RestResponse> events(RestRequest req) {
    auto q = sessions::parse_query(req.query);
    const int64_t after = query_int(q, q.count("cursor") ? "cursor" : "afterSeq", 0, 1LL << 50);
    const int limit = static_cast<int>(query_int(q, "limit", 100, 1000));
    const auto wait = std::chrono::milliseconds(query_int(q, "waitMs", 0, 25000));
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    Task<json> t = runs_.events(std::move(c), req.params.at(1), req.params.at(2),
                                static_cast<uint64_t>(after), limit, wait);
    json out = co_await std::move(t);
    co_return RestResponse{200, out};
  }

  Task<RestResponse> cancel(RestRequest req) {
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    Task<json> t = runs_.cancel(std::move(c), req.params.at(1), req.params.at(2));
    json run = co_await std::move(t);
    co_return RestResponse{200, {{"run", run}}};
  }

  // The reference's webhook: the token in the path is the credential (no access token); any
  // JSON body becomes the run's input. x-idempotency-key (or x-trigger-id) makes a redelivery
  // answer {accepted, duplicate: true} instead of a second run.
  Task<RestResponse> webhook(RestRequest req) {
    json body;
    if (!req.body().empty()) {
      try {
        body = core::json_input::parse(req.body());  // depth-limited: the body comes from anyone
      } catch (const std::exception& e) {
        throw api::invalid(std::string("the webhook body must be JSON (or empty): ") + e.what());
      }
    }
    std::string key = core::header(req, "x-idempotency-key");
    if (key.empty()) key = core::header(req, "x-trigger-id");
    if (key.size() > 200) key.resize(200);  // as the reference trims it
    Task<json> t = runs_.trigger_webhook(req.params.at(0), std::move(body), std::move(key));
    json out = co_await std::move(t);
    co_return RestResponse{202, out};
  }

  Task<RestResponse> claim(RestRequest req) {
    authorize(req);
    Task<json> t = runs_.claim(core::json_body(req));
    json out = co_await std::move(t);
    co_return RestResponse{200, out};
  }

  Task<RestResponse> checkpoint(RestRequest req) {
    authorize(req);
    Task<json> t = runs_.checkpoint(req.params.at(0), core::json_body(req));
    json out = co_await std::move(t);
    co_return RestResponse{200, out};
  }

 private:
  void authorize(const RestRequest& req) const { core::require_service_token(token_sha256_, req); }

  repo::Repository& repo_;
  RunService& runs_;
  std::string token_sha256_;
};

}  // namespace

void register_workflow_run_routes(core::RestDialect& rest, repo::Repository& repo, RunService& runs,
                                  std::string service_token_sha256) {
  auto r = std::make_shared<RunRoutes>(repo, runs, std::move(service_token_sha256));
  const std::string base = "/v1/orgs/:orgId/workflows/:workflowId/runs";
  rest.route("POST", base, [r](RestRequest q) { return r->start(std::move(q)); });
  rest.route("GET", base, [r](RestRequest q) { return r->list(std::move(q)); });
  rest.route("GET", base + "/:runId", [r](RestRequest q) { return r->get(std::move(q)); });
  rest.route("GET", base + "/:runId/events",
             [r](RestRequest q) { return r->events(std::move(q)); });
  rest.route("POST", base + "/:runId/cancel",
             [r](RestRequest q) { return r->cancel(std::move(q)); });
  rest.route("POST", "/v1/triggers/webhook/:token",
             [r](RestRequest q) { return r->webhook(std::move(q)); });
  rest.route("POST", "/internal/v1/workflow-runs/claim",
             [r](RestRequest q) { return r->claim(std::move(q)); });
  rest.route("POST", "/internal/v1/workflow-runs/:runId/checkpoint",
             [r](RestRequest q) { return r->checkpoint(std::move(q)); });
}

}  // namespace vespid::workflows
