#include "protocols/rest/session_routes.hpp"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/pct_string_view.hpp>

#include "protocols/rest/rest_auth.hpp"
#include "runtime/api_error.hpp"
#include "services/sessions/session_service.hpp"

namespace vespid::sessions {

using core::RestRequest;
using core::RestResponse;
using core::Task;
using nlohmann::json;

namespace {

// One name or value of a query string, percent-decoded with '+' read as a space (Boost.URL).
// A malformed escape ("%zz") keeps the text as it came rather than failing the request.
std::string decode(std::string_view s) {
  auto pct = boost::urls::make_pct_string_view(s);
  if (!pct) return std::string(s);
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  return pct->decode(opts);
}

// A non-negative integer query parameter, or `fallback` when absent. Throws INVALID_REQUEST.
int64_t int_param(const std::map<std::string, std::string>& q, const char* name, int64_t fallback) {
  auto it = q.find(name);
  if (it == q.end() || it->second.empty()) return fallback;
  const std::string& v = it->second;
  if (v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
    throw api::invalid(std::string("\"") + name + "\" must be a non-negative integer",
                       {{"field", name}});
  }
  return std::stoll(v);
}

class SessionRoutes {
 public:
  SessionRoutes(repo::Repository& repo, SessionService& s) : repo_(repo), s_(s) {}

  Task<Caller> caller(RestRequest req) {
    Task<core::Principal> t = core::rest_principal(repo_, req);
    core::Principal who = co_await std::move(t);
    co_return Caller{who, req.params.at(0)};  // every session route names the org first
  }

  Task<RestResponse> create(RestRequest req) {
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    json body = req.body().empty() ? json::object() : core::json_body(req);
    Task<json> t = s_.create(std::move(c), std::move(body));
    json session = co_await std::move(t);
    co_return RestResponse{201, {{"session", session}}};
  }

  Task<RestResponse> list(RestRequest req) {
    auto q = parse_query(req.query);
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    auto cursor = q.count("cursor") ? q["cursor"] : std::string();
    SessionListFilter filter =
        SessionListFilter::from_params(q["q"], q["createdBy"], q["agentId"], c.who.user_id);
    Task<json> t =
        s_.list(std::move(c), static_cast<int>(std::min<int64_t>(int_param(q, "limit", 50), 1000)),
                std::move(cursor), std::move(filter));
    json out = co_await std::move(t);
    co_return RestResponse{200, out};
  }

  Task<RestResponse> get(RestRequest req) {
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    Task<json> t = s_.get(std::move(c), req.params.at(1));
    json out = co_await std::move(t);
    co_return RestResponse{200, out};
  }

  Task<RestResponse> events(RestRequest req) {
    auto q = parse_query(req.query);
    int64_t after = int_param(q, "afterSeq", int_param(q, "cursor", 0));
    int64_t limit = std::min<int64_t>(int_param(q, "limit", 100), 1000);
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    Task<json> t = s_.events(std::move(c), req.params.at(1), static_cast<uint64_t>(after),
                             static_cast<int>(limit));
    json out = co_await std::move(t);
    co_return RestResponse{200, out};
  }

  Task<RestResponse> send(RestRequest req) {
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    json body = core::json_body(req);
    Task<json> t = s_.send(std::move(c), req.params.at(1), std::move(body));
    json out = co_await std::move(t);
    co_return RestResponse{202, out};
  }

  Task<RestResponse> cancel(RestRequest req) {
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    Task<json> t = s_.cancel(std::move(c), req.params.at(1), "rest");
    json out = co_await std::move(t);
    co_return RestResponse{200, out};
  }

  Task<RestResponse> reset(RestRequest req) {
    Task<Caller> ct = caller(req);
    Caller c = co_await std::move(ct);
    Task<json> t = s_.reset(std::move(c), req.params.at(1));
    json out = co_await std::move(t);
    co_return RestResponse{200, out};
  }

 private:
  repo::Repository& repo_;
  SessionService& s_;
};

}  // namespace

std::map<std::string, std::string> parse_query(const std::string& query) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    std::string part =
        query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string name = decode(part.substr(0, eq));
      std::string value = eq == std::string::npos ? std::string() : decode(part.substr(eq + 1));
      out[name] = value;
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

void register_session_routes(core::RestDialect& rest, repo::Repository& repo,
                             SessionService& sessions) {
  auto r = std::make_shared<SessionRoutes>(repo, sessions);
  rest.route("POST", "/v1/orgs/:orgId/sessions",
             [r](RestRequest q) { return r->create(std::move(q)); });
  rest.route("GET", "/v1/orgs/:orgId/sessions",
             [r](RestRequest q) { return r->list(std::move(q)); });
  rest.route("GET", "/v1/orgs/:orgId/sessions/:sessionId",
             [r](RestRequest q) { return r->get(std::move(q)); });
  rest.route("GET", "/v1/orgs/:orgId/sessions/:sessionId/events",
             [r](RestRequest q) { return r->events(std::move(q)); });
  rest.route("POST", "/v1/orgs/:orgId/sessions/:sessionId/messages",
             [r](RestRequest q) { return r->send(std::move(q)); });
  rest.route("POST", "/v1/orgs/:orgId/sessions/:sessionId/reset",
             [r](RestRequest q) { return r->reset(std::move(q)); });
  rest.route("POST", "/v1/orgs/:orgId/sessions/:sessionId/cancel",
             [r](RestRequest q) { return r->cancel(std::move(q)); });
}

}  // namespace vespid::sessions
