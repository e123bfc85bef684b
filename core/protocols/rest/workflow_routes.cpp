#include "protocols/rest/workflow_routes.hpp"

#include <memory>

#include "protocols/rest/rest_auth.hpp"
#include "protocols/rest/session_routes.hpp"
#include "runtime/api_error.hpp"
#include "services/workflows/workflow_service.hpp"

namespace vespid::workflows {

using core::RestRequest;
using core::RestResponse;
using core::Task;
using nlohmann::json;

namespace {

int limit_of(const std::map<std::string, std::string>& q) {
  auto it = q.find("limit");
  if (it == q.end() || it->second.empty()) return 50;
  if (it->second.size() > 4 || it->second.find_first_not_of("0123456789") != std::string::npos)
    throw api::invalid("\"limit\" must be an integer from 1 to 200", {{"field", "limit"}});
  return std::stoi(it->second);
}

class WorkflowRoutes {
 public:
  WorkflowRoutes(repo::Repository& repo, WorkflowService& w) : repo_(repo), w_(w) {}

  Task<Caller> caller(RestRequest req) { return workflow_caller(repo_, std::move(req)); }

  Task<RestResponse> create(RestRequest req) {
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    json body = req.body().empty() ? json::object() : core::json_body(req);
    Task<json> t = w_.create(std::move(c), std::move(body));
    json w = co_await std::move(t);
    co_return RestResponse{201, {{"workflow", w}}};
  }

  Task<RestResponse> list(RestRequest req) {
    auto q = sessions::parse_query(req.query);
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    Task<json> t = w_.list(std::move(c), limit_of(q), q.count("cursor") ? q["cursor"] : "");
    json out = co_await std::move(t);
    co_return RestResponse{200, out};
  }

  Task<RestResponse> get(RestRequest req) {
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    Task<json> t = w_.get(std::move(c), req.params.at(1));
    json w = co_await std::move(t);
    co_return RestResponse{200, {{"workflow", w}}};
  }

  Task<RestResponse> update(RestRequest req) {
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    json body = core::json_body(req);
    Task<json> t = w_.update(std::move(c), req.params.at(1), std::move(body));
    json w = co_await std::move(t);
    co_return RestResponse{200, {{"workflow", w}}};
  }

  Task<RestResponse> revisions(RestRequest req) {
    auto q = sessions::parse_query(req.query);
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    Task<json> t = w_.revisions(std::move(c), req.params.at(1), limit_of(q));
    json out = co_await std::move(t);
    co_return RestResponse{200, out};
  }

  Task<RestResponse> publish(RestRequest req) {
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    Task<json> t = w_.publish(std::move(c), req.params.at(1));
    json w = co_await std::move(t);
    co_return RestResponse{200, {{"workflow", w}}};
  }

 private:
  repo::Repository& repo_;
  WorkflowService& w_;
};

}  // namespace

Task<Caller> workflow_caller(repo::Repository& repo, RestRequest req) {
  Task<core::Principal> t = core::rest_principal(repo, req);
  core::Principal who = co_await std::move(t);
  co_return Caller{who, req.params.at(0)};
}

void register_workflow_routes(core::RestDialect& rest, repo::Repository& repo,
                              WorkflowService& workflows) {
  auto r = std::make_shared<WorkflowRoutes>(repo, workflows);
  rest.route("POST", "/v1/orgs/:orgId/workflows",
             [r](RestRequest q) { return r->create(std::move(q)); });
  rest.route("GET", "/v1/orgs/:orgId/workflows",
             [r](RestRequest q) { return r->list(std::move(q)); });
  rest.route("GET", "/v1/orgs/:orgId/workflows/:workflowId",
             [r](RestRequest q) { return r->get(std::move(q)); });
  rest.route("PUT", "/v1/orgs/:orgId/workflows/:workflowId",
             [r](RestRequest q) { return r->update(std::move(q)); });
  rest.route("GET", "/v1/orgs/:orgId/workflows/:workflowId/revisions",
             [r](RestRequest q) { return r->revisions(std::move(q)); });
  rest.route("POST", "/v1/orgs/:orgId/workflows/:workflowId/publish",
             [r](RestRequest q) { return r->publish(std::move(q)); });
}

}  // namespace vespid::workflows
