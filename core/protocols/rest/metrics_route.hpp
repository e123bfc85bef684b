// GET /metrics: the Prometheus text exposition (docs/metrics.md). Off the public listeners by
// default (only the api instance routes it), and guarded here too: with metrics.token set,
// every request needs `Authorization: Bearer <token>`; without it, only a loopback peer is
// served, and anyone else is told to set metrics.token.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "protocols/rest/rest_dialect.hpp"

namespace vespid::core {

struct MetricsRouteServices {
  std::string token_sha256;             // metrics.token's SHA-256 (hex); empty: loopback only
  std::function<std::string()> scrape;  // the exposition text; called inside the Sequencer
};

// GET /metrics on `rest`, answered by metrics_handler.
void register_metrics_route(RestDialect& rest, MetricsRouteServices s);
// The route's handler: 401 without the configured token, 403 for a peer beyond loopback when
// none is configured, else 200 with the text.
RestHandler metrics_handler(MetricsRouteServices s);

// 127.0.0.0/8, ::1 or an IPv4-mapped 127.x address (a peer's address without its port).
bool is_loopback_address(std::string_view host);

}  // namespace vespid::core
