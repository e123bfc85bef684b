#include "protocols/rest/dispatch_routes.hpp"

#include "protocols/rest/rest_auth.hpp"
#include "runtime/api_error.hpp"
#include "services/dispatch/dispatcher.hpp"

namespace vespid::dispatch {

using core::RestRequest;
using core::RestResponse;
using core::Task;
using nlohmann::json;

namespace {

class DispatchRoutes {
 public:
  explicit DispatchRoutes(DispatchRouteServices s) : s_(std::move(s)) {}

  Task<RestResponse> dispatch_async(RestRequest req) {
    authorize(req);
    DispatchRequest r = parse_dispatch_request(core::json_body(req), s_.limits);
    Task<Dispatcher::Submitted> t = s_.dispatcher.submit(std::move(r));
    Dispatcher::Submitted sub = co_await std::move(t);
    switch (sub.outcome) {
      case Dispatcher::Outcome::Cached:
        co_return RestResponse{
            200, {{"requestId", sub.request_id}, {"dispatched", false}, {"cached", true}}};
      case Dispatcher::Outcome::AlreadyInFlight:
        // The same attempt again (a worker retrying its own call): not sent twice.
        co_return RestResponse{
            201, {{"requestId", sub.request_id}, {"dispatched", true}, {"alreadyInFlight", true}}};
      case Dispatcher::Outcome::Dispatched:
        break;
    }
    co_return RestResponse{201, {{"requestId", sub.request_id}, {"dispatched", true}}};
  }

  // The reference's synchronous form: 200 with the result's public view once the host answers
  // or the dispatch times out (a failed result is still 200); 503 NO_AGENT_AVAILABLE at once.
  // The same attempt posted again waits for the one in flight, or answers its stored result.
  Task<RestResponse> dispatch_sync(RestRequest req) {
    authorize(req);
    DispatchRequest r = parse_dispatch_request(core::json_body(req), s_.limits);
    Task<Dispatcher::Submitted> t = s_.dispatcher.submit(std::move(r));
    Dispatcher::Submitted sub = co_await std::move(t);
    Task<json> w = s_.dispatcher.wait_result(sub.request_id);
    json result = co_await std::move(w);
    co_return RestResponse{200, std::move(result)};
  }

  Task<RestResponse> result(RestRequest req) {
    authorize(req);
    const std::string& id = req.params.at(0);
    if (id.size() < 5 || id.size() > 1024) throw api::invalid("Invalid requestId");
    Task<std::optional<json>> t = s_.dispatcher.result(id);
    std::optional<json> r = co_await std::move(t);
    if (!r) throw api::ApiError("RESULT_NOT_READY", "Result not ready");
    co_return RestResponse{200, *r};
  }

 private:
  void authorize(const RestRequest& req) const {
    if (s_.service_token_sha256.empty()) {
      throw api::ApiError("INTERNAL_ROUTES_DISABLED",
                          "internal routes are off: set internal.token (or VESPID_INTERNAL_TOKEN) "
                          "on the gateway");
    }
    core::require_service_token(s_.service_token_sha256, req);
  }

  DispatchRouteServices s_;
};

}  // namespace

void register_dispatch_routes(core::RestDialect& rest, DispatchRouteServices services) {
  auto r = std::make_shared<DispatchRoutes>(std::move(services));
  rest.route("POST", "/internal/v1/dispatch",
             [r](RestRequest q) { return r->dispatch_sync(std::move(q)); });
  rest.route("POST", "/internal/v1/dispatch-async",
             [r](RestRequest q) { return r->dispatch_async(std::move(q)); });
  rest.route("GET", "/internal/v1/results/:requestId",
             [r](RestRequest q) { return r->result(std::move(q)); });
}

}  // namespace vespid::dispatch
