#include "protocols/rest/dispatch_routes.hpp"

#include "protocols/rest/rest_auth.hpp"
#include "protocols/rest/session_routes.hpp"
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
    Task<Dispatcher::Submitted> t = s_.dispatcher.submit(request_of(req));
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
    Task<void> d = s_.dispatcher.durable(sub);
    co_await std::move(d);
    co_return RestResponse{201, {{"requestId", sub.request_id}, {"dispatched", true}}};
  }

  // The reference's synchronous form: 200 with the result's public view once the host answers
  // or the dispatch times out (a failed result is still 200); 503 NO_AGENT_AVAILABLE at once.
  // The same attempt posted again waits for the one in flight, or answers its stored result.
  Task<RestResponse> dispatch_sync(RestRequest req) {
    authorize(req);
    Task<Dispatcher::Submitted> t = s_.dispatcher.submit(request_of(req));
    Dispatcher::Submitted sub = co_await std::move(t);
    // No durable() here: the answer is the stored result, whose synced commit came after the
    // record's and made it durable too.
    Task<json> w = s_.dispatcher.wait_result(sub.request_id);
    json result = co_await std::move(w);
    co_return RestResponse{200, std::move(result)};
  }

  Task<RestResponse> result(RestRequest req) {
    authorize(req);
    const std::string& id = req.params.at(0);
    if (id.size() < 5 || id.size() > 1024) throw api::invalid("Invalid requestId");
    const auto wait = wait_of(req);
    std::optional<json> r;
    if (wait.count() > 0) {
      // A worker's long-poll: answered when the result is stored, or after waitMs.
      Task<std::optional<json>> t = s_.dispatcher.wait_result_for(id, wait);
      r = co_await std::move(t);
    } else {
      Task<std::optional<json>> t = s_.dispatcher.result(id);
      r = co_await std::move(t);
    }
    if (!r) throw api::ApiError("RESULT_NOT_READY", "Result not ready");
    co_return RestResponse{200, *r};
  }

 private:
  static constexpr int64_t kMaxResultWaitMs = 25000;

  // The typed reading where it vouches for the body, else the DOM's, which owns the errors.
  // The typed reading takes the body (its payload stays in it) when it reads it; else it is
  // left for the DOM's reading.
  DispatchRequest request_of(RestRequest& req) const {
    if (auto r = read_dispatch_request(req.body_bytes, req.body_at, s_.limits))
      return std::move(*r);
    return parse_dispatch_request(core::json_body(req), s_.limits);
  }

  static std::chrono::milliseconds wait_of(const RestRequest& req) {
    auto q = sessions::parse_query(req.query);
    auto it = q.find("waitMs");
    if (it == q.end() || it->second.empty()) return std::chrono::milliseconds(0);
    if (it->second.size() > 6 || it->second.find_first_not_of("0123456789") != std::string::npos ||
        std::stoll(it->second) > kMaxResultWaitMs) {
      throw api::invalid("\"waitMs\" must be an integer from 0 to 25000", {{"field", "waitMs"}});
    }
    return std::chrono::milliseconds(std::stoll(it->second));
  }

  void authorize(const RestRequest& req) const {
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
