// The REST API for node hosts (rest.v1): pairing tokens, pairing, the org's node list, revoke and
// tags. Access tokens authenticate every /v1/orgs call with membership read per request; pairing
// itself is authenticated by the pairing token. docs/rest-api.md and docs/openapi.yaml describe
// the shapes.
#pragma once

#include <functional>
#include <string>

#include "protocols/rest/rest_dialect.hpp"

namespace vespid::repo {
class Repository;
}
namespace vespid::nodes {
class NodeStore;
class NodeRouter;
}  // namespace vespid::nodes

namespace vespid::node_hosts {

class NodeHostStore;

struct NodeHostRouteServices {
  repo::Repository& repo;
  nodes::NodeStore& nodes;
  NodeHostStore& agents;
  nodes::NodeRouter& router;
  // The WebSocket URL a freshly paired host should connect to, for a request that came in.
  std::function<std::string(const core::RestRequest&)> gateway_ws_url;
};

void register_node_host_routes(core::RestDialect& rest, NodeHostRouteServices services);

}  // namespace vespid::node_hosts
