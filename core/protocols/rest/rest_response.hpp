// A RestResponse as the rest.v1 envelope the transport turns into HTTP:
//   {"status", "headers": {name: value or [values]}, "body": "<text>"}
// or, where the transport takes it (VSP_CONN_REST_JSON_BODY), a JSON body as itself:
//   {"status", "headers": {...}, "body": {...}}
#pragma once

#include <string>

#include "protocols/rest/rest_dialect.hpp"

namespace vespid::core {

// The envelope of `r`: content-type (application/json unless the response names another) and
// cache-control: no-store, then r.headers, a repeated name as an array of values. A header
// whose name is not an HTTP token, or whose value holds CR, LF or NUL, would let the text that
// follows it become headers or a body of its own (response splitting): such a response becomes
// a 500 INTERNAL instead, and *problem (if given) says which header was refused.
// `json_body_as_value`: write r.body (not a raw_body) as the JSON value it is rather than as a
// string holding its text, for a transport that set VSP_CONN_REST_JSON_BODY; only an object or
// an array, which cannot be mistaken for a body's text or for no body.
std::string rest_response_envelope(const RestResponse& r, std::string* problem = nullptr,
                                   bool json_body_as_value = false);

}  // namespace vespid::core
