#include "routes.hpp"

#include <algorithm>

namespace vespid::ws {

std::string Route::describe() const {
  std::string out = (exact ? "path " : "prefix ") + match;
  switch (kind) {
    case Kind::Http:
      return out + " (http " + dialect + ")";
    case Kind::WebSocket:
      return out + " (websocket " + dialect + ")";
    case Kind::Static:
      return out + " (static)";
    case Kind::Echo:
      return out + " (websocket echo, for conformance suites)";
  }
  return out;
}

std::vector<Route> default_routes(bool with_static) {
  using K = Route::Kind;
  std::vector<Route> r = {
      {true, "/ws", K::WebSocket, "vespid.node.v1"},
      {true, "/ws/client", K::WebSocket, "vespid.client.v1"},
      {true, "/ws/operator", K::WebSocket, "operator.v1"},
      {false, "/v1/", K::Http, "rest.v1"},
      {false, "/internal/v1/", K::Http, "rest.v1"},
      {true, "/healthz", K::Http, "rest.v1"},
  };
  if (with_static) r.push_back({false, "/", K::Static, ""});
  return r;
}

RouteTable::RouteTable(std::vector<Route> routes) {
  for (auto& r : routes) (r.exact ? exact_ : prefix_).push_back(std::move(r));
  std::stable_sort(prefix_.begin(), prefix_.end(),
                   [](const Route& a, const Route& b) { return a.match.size() > b.match.size(); });
}

const Route* RouteTable::match(std::string_view path) const noexcept {
  for (const auto& r : exact_) {
    if (r.match == path) return &r;
  }
  for (const auto& r : prefix_) {
    if (path.substr(0, r.match.size()) == r.match) return &r;
  }
  return nullptr;
}

Served served_by(const std::vector<Route>& routes) {
  const RouteTable table(routes);
  Served out;
  const Route* ws = table.match("/ws");
  out.node_ws =
      ws != nullptr && ws->kind == Route::Kind::WebSocket && ws->dialect == "vespid.node.v1";
  const Route* pair = table.match("/v1/agents/pair");
  out.rest_api = pair != nullptr && pair->kind == Route::Kind::Http && pair->dialect == "rest.v1";
  return out;
}

}  // namespace vespid::ws
