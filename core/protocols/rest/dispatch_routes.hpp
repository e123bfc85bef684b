// The internal routes workers use (rest.v1, role internal), with the reference's shapes:
//   POST /internal/v1/dispatch-async   201 {requestId, dispatched:true}
//                                      200 {requestId, dispatched:false, cached:true}
//                                      503 {code:"NO_AGENT_AVAILABLE", message, details.reason}
//   GET  /internal/v1/results/:id      200 {status, output?, error?} | 404 RESULT_NOT_READY
// Every call presents x-gateway-token. With no service token configured the routes answer 503
// INTERNAL_ROUTES_DISABLED: there is no default secret.
#pragma once

#include <string>

#include "protocols/rest/rest_dialect.hpp"
#include "services/dispatch/dispatch_request.hpp"

namespace vespid::dispatch {

class Dispatcher;

struct DispatchRouteServices {
  Dispatcher& dispatcher;
  std::string service_token_sha256;  // empty: internal routes are off
  RequestLimits limits;
};

void register_dispatch_routes(core::RestDialect& rest, DispatchRouteServices services);

}  // namespace vespid::dispatch
