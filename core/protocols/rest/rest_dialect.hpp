// rest.v1: HTTP requests carried as messages (see transport.h). One message in per request,
// one message out per request, in order:
//   in  {"method","path","query","headers":{lowercased},"body":"<text>"}, or from a transport
//       that sets VSP_CONN_REST_RAW_BODY {"method","path","query","headers"} '\n' <body bytes>
//   out {"status","headers":{name: value or [values]},"body":"<text>"}
// Routes are matched here, in the core, so any transport that can carry HTTP serves them.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "host/connections/dialect.hpp"
#include "protocols/rest/rest_headers.hpp"

namespace vespid::core {

class WebCookieAuth;

struct RestRequest {
  std::string method;
  std::string path;
  std::string query;
  RestHeaders headers;  // lower-case names, each once
  // The body is body_bytes from body_at on. A message that brought its body as bytes after the
  // envelope's head (VSP_CONN_REST_RAW_BODY) is kept whole, the head before body_at, so that a
  // large body is never moved to the front of its string. A handler may take body_bytes away
  // (the dispatch routes do); body() is empty from then on.
  std::string body_bytes;
  std::size_t body_at = 0;
  std::string_view body() const noexcept {
    return body_at <= body_bytes.size() ? std::string_view(body_bytes).substr(body_at)
                                        : std::string_view();
  }
  std::vector<std::string> params;  // path segments captured by ":name" in the route
  bool tls = false;                 // it came over TLS (the transport said so: VSP_CONN_TLS)
  std::string peer_host;            // the peer's address without its port, as the transport said
  // How a session cookie is checked (rest_principal); null when the gateway takes none.
  const WebCookieAuth* cookies = nullptr;
};

struct RestResponse {
  int status = 200;
  nlohmann::json body;  // sent as JSON, unless raw_body is set
  // More response headers (Set-Cookie, ...): one entry per value, so a name may repeat. A
  // name given here replaces the default content-type or cache-control. Names must be HTTP
  // tokens and values must not hold CR, LF or NUL: the dialect answers 500 rather than send
  // a header that could split the response.
  std::vector<std::pair<std::string, std::string>> headers;
  // A body that is not JSON (metrics, say), sent as it is with `content_type`. UTF-8 text
  // only: the rest.v1 envelope carries the body as a JSON string.
  std::optional<std::string> raw_body;
  std::string content_type = "application/json";
};

using RestHandler = std::function<Task<RestResponse>(RestRequest)>;

class RestDialect final : public Dialect {
 public:
  // `pattern` is a path whose segments may be ":name" placeholders ("/v1/orgs/:orgId/agents").
  void route(std::string method, std::string pattern, RestHandler handler);
  // From now on requests may authenticate with the web session cookie (RestRequest::cookies).
  void accept_session_cookies(const WebCookieAuth* cookies) noexcept { cookies_ = cookies; }

  std::string_view name() const noexcept override { return "rest.v1"; }
  Task<void> on_open(std::shared_ptr<Connection> conn) override;
  Task<void> on_message(std::shared_ptr<Connection> conn, std::string message) override;
  void on_protocol_error(Connection& conn, int status, const std::string& message) override;
  void on_overload(Connection& conn, const std::string& message) override;
  bool authenticates_each_message() const noexcept override { return true; }
  void on_frame_failed(Connection& conn, const std::string& code,
                       const std::string& message) override;

  static RestResponse error(int status, const std::string& code, const std::string& message);

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    RestHandler handler;
  };
  const Route* match(const std::string& method, const std::string& path,
                     std::vector<std::string>& params, bool& path_known) const;
  static void respond(Connection& conn, const RestResponse& r);

  std::vector<Route> routes_;
  const WebCookieAuth* cookies_ = nullptr;
};

}  // namespace vespid::core
