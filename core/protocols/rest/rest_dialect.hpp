// rest.v1: HTTP requests carried as messages (see transport.h). One message in per request,
// one message out per request, in order:
//   in  {"method","path","query","headers":{lowercased},"body":"<text>"}
//   out {"status","headers":{...},"body":"<text>"}
// Routes are matched here, in the core, so any transport that can carry HTTP serves them.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/connections/dialect.hpp"

namespace vespid::core {

struct RestRequest {
  std::string method;
  std::string path;
  std::string query;
  nlohmann::json headers;  // object, lowercased names
  std::string body;
  std::vector<std::string> params;  // path segments captured by ":name" in the route
};

struct RestResponse {
  int status = 200;
  nlohmann::json body;  // sent as JSON
};

using RestHandler = std::function<Task<RestResponse>(RestRequest)>;

class RestDialect final : public Dialect {
 public:
  // `pattern` is a path whose segments may be ":name" placeholders ("/v1/orgs/:orgId/agents").
  void route(std::string method, std::string pattern, RestHandler handler);

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
};

}  // namespace vespid::core
