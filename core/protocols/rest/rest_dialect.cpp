#include "protocols/rest/rest_dialect.hpp"

#include <boost/url/pct_string_view.hpp>
#include <optional>
#include <string_view>

#include "host/connections/connection.hpp"
#include "protocols/rest/rest_envelope.hpp"
#include "protocols/rest/rest_response.hpp"
#include "runtime/api_error.hpp"
#include "runtime/logging.hpp"
#include "storage/storage_service.hpp"

namespace vespid::core {

using nlohmann::json;

namespace {

// The path's non-empty segments ("/v1//a/" has two), as views into it: every request is split
// once to be matched, so no segment is copied (nor a stream made) for routes it does not take.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool is_placeholder(std::string_view segment) {
  return !segment.empty() && segment.front() == ':';
}

// One path segment, percent-decoded once ("run%3Anode%3A1" is "run:node:1"); '+' stays '+'.
// nullopt for a malformed escape.
std::optional<std::string> decode_segment(std::string_view s) {
  auto pct = boost::urls::make_pct_string_view(s);
  if (!pct) return std::nullopt;
  return pct->decode();
}

int status_for(const std::string& code) {
  if (code == "INVALID_REQUEST" || code == "BAD_REQUEST") return 400;
  if (code == "UNAUTHORIZED" || code == "PAIRING_TOKEN_INVALID" || code == "AGENT_REVOKED")
    return 401;
  if (code == "RESULT_NOT_READY" || code == "SESSION_NOT_FOUND" || code == "WORKFLOW_NOT_FOUND" ||
      code == "RUN_NOT_FOUND" || code == "TRIGGER_NOT_FOUND")
    return 404;
  // A worker's lease on a run was taken over, or the run was canceled: stop working on it.
  if (code == "LEASE_LOST" || code == "RUN_CANCELED") return 409;
  // A workflow graph the reference's rules refuse (services/workflows/workflow_spec.hpp).
  if (code == "GRAPH_NODE_MISSING" || code == "GRAPH_EDGE_INVALID" ||
      code == "GRAPH_CYCLE_DETECTED" || code == "CONDITION_EDGE_CONSTRAINTS")
    return 400;
  // The session is pinned to a host that is not connected: a state conflict the caller
  // resolves (wait for the host, or reset the session), not a gateway outage.
  if (code == "PINNED_AGENT_OFFLINE") return 409;
  if (code == "NO_AGENT_AVAILABLE" || code == "INTERNAL_ROUTES_DISABLED") return 503;
  if (code == "FORBIDDEN") return 403;
  if (code == "NOT_FOUND" || code == "METHOD_NOT_FOUND") return 404;
  if (code == "CONFLICT") return 409;
  if (code == "UNAVAILABLE") return 503;
  return 500;
}

}  // namespace

RestResponse RestDialect::error(int status, const std::string& code, const std::string& message) {
  return {status, {{"code", code}, {"message", message}}};
}

void RestDialect::route(std::string method, std::string pattern, RestHandler handler) {
  std::vector<std::string> segments;
  for (std::string_view seg : split_path(pattern)) segments.emplace_back(seg);
  routes_.push_back({std::move(method), std::move(segments), std::move(handler)});
}

const RestDialect::Route* RestDialect::match(const std::string& method, const std::string& path,
                                             std::vector<std::string>& params,
                                             bool& path_known) const {
  const std::vector<std::string_view> segs = split_path(path);
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    bool same = true;
    for (size_t i = 0; i < segs.size() && same; ++i) {
      same = is_placeholder(r.segments[i]) || r.segments[i] == segs[i];
    }
    if (!same) continue;
    path_known = true;
    if (r.method != method && !(method == "HEAD" && r.method == "GET")) continue;
    // Captured only for the route taken.
    params.clear();
    for (size_t i = 0; i < segs.size(); ++i) {
      if (is_placeholder(r.segments[i])) params.emplace_back(segs[i]);
    }
    return &r;
  }
  return nullptr;
}

void RestDialect::respond(Connection& conn, const RestResponse& r) {
  std::string problem;
  std::string envelope =
      rest_response_envelope(r, &problem, (conn.flags() & VSP_CONN_REST_JSON_BODY) != 0);
  if (!problem.empty()) log::get("core")->error("REST response refused: {}", problem);
  conn.send(envelope);
}

Task<void> RestDialect::on_open(std::shared_ptr<Connection> conn) {
  conn->principal.role = Role::Anonymous;  // every request carries its own credentials
  co_return;
}

Task<void> RestDialect::on_message(std::shared_ptr<Connection> conn, std::string message) {
  RestRequest req;
  std::string problem;
  if (!read_request(message, (conn->flags() & VSP_CONN_REST_RAW_BODY) != 0, req, problem)) {
    respond(*conn, error(400, "BAD_REQUEST", problem));
    co_return;
  }
  req.tls = (conn->flags() & VSP_CONN_TLS) != 0;
  req.peer_host = conn->peer_host();
  req.cookies = cookies_;
  bool path_known = false;
  const Route* route = match(req.method, req.path, req.params, path_known);
  // Path parameters reach the routes decoded, here and nowhere else.
  for (auto& param : req.params) {
    auto decoded = decode_segment(param);
    if (!decoded) {
      respond(*conn, error(400, "BAD_REQUEST",
                           "malformed percent-escape in the path segment \"" + param + "\""));
      co_return;
    }
    param = std::move(*decoded);
  }
  if (route == nullptr) {
    respond(*conn,
            path_known
                ? error(405, "METHOD_NOT_ALLOWED", req.method + " is not allowed on " + req.path)
                : error(404, "NOT_FOUND", "no route for " + req.method + " " + req.path));
    co_return;
  }
  RestResponse response;
  try {
    Task<RestResponse> t = route->handler(std::move(req));
    response = co_await std::move(t);
  } catch (const api::ApiError& e) {
    // The REST API says BAD_REQUEST where the other dialects say INVALID_REQUEST (the
    // reference's HTTP code for a malformed body).
    const std::string code = e.code() == "INVALID_REQUEST" ? "BAD_REQUEST" : e.code();
    response = error(status_for(code), code, e.what());
    if (!e.details().is_null()) response.body["details"] = e.details();
  } catch (const StorageError& e) {
    response = error(503, "UNAVAILABLE",
                     e.status() == VSP_E_FULL ? std::string("storage is full: ") + e.what()
                                              : std::string("storage: ") + e.what());
  } catch (const json::exception& e) {
    // A body field of a type the route read without checking: the caller's input, not a defect.
    response = error(400, "BAD_REQUEST", std::string("a field has the wrong type: ") + e.what());
  } catch (const std::exception& e) {
    log::get("core")->error("REST handler failed: {}", e.what());
    response = error(500, "INTERNAL", std::string("internal error: ") + e.what());
  }
  if (!conn->gone) respond(*conn, response);
}

void RestDialect::on_protocol_error(Connection& conn, int, const std::string& message) {
  respond(conn, error(400, "BAD_REQUEST", message));
}

void RestDialect::on_overload(Connection& conn, const std::string& message) {
  respond(conn, error(503, "UNAVAILABLE", message));
}

void RestDialect::on_frame_failed(Connection& conn, const std::string& code,
                                  const std::string& message) {
  const std::string rest_code = code == "INVALID_REQUEST" ? "BAD_REQUEST" : code;
  respond(conn, error(status_for(rest_code), rest_code, message));
}

}  // namespace vespid::core
