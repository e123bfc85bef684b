// Request paths to what serves them: exact paths first, then the longest matching prefix.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vespid::ws {

struct Route {
  enum class Kind {
    Http,       // each request is a rest.v1 envelope for the host (dialect is "rest.v1")
    WebSocket,  // an upgrade held until the host admits it, then one message per text frame
    Static,     // files under static_dir
    Echo,       // a WebSocket the transport answers itself, echoing every message (echo_path)
  };
  bool exact = true;  // "path" (exact) or "prefix"
  std::string match;
  Kind kind = Kind::Http;
  std::string dialect;  // empty for Static and Echo

  // For messages: "/ws (websocket vespid.node.v1)".
  std::string describe() const;
};

// The built-in routes: /ws, /ws/client, /ws/operator (WebSocket), /v1/, /internal/v1/, /healthz
// (rest.v1), and static files at "/" when a static_dir is configured.
std::vector<Route> default_routes(bool with_static);

// What a listener with these routes offers that discovery cares about: the node hosts'
// WebSocket (/ws, vespid.node.v1) and the REST API where they pair (/v1/agents/pair, rest.v1).
struct Served {
  bool node_ws = false;
  bool rest_api = false;
};
Served served_by(const std::vector<Route>& routes);

class RouteTable {
 public:
  RouteTable() = default;
  explicit RouteTable(std::vector<Route> routes);

  // nullptr when nothing matches. `path` is the request target's path, without the query.
  const Route* match(std::string_view path) const noexcept;

 private:
  std::vector<Route> exact_;
  std::vector<Route> prefix_;  // longest first
};

}  // namespace vespid::ws
