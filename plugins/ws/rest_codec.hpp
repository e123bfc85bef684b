// rest.v1 over the message interface (see vespid/transport.h): an HTTP request becomes a JSON
// envelope and its body for the host, and the host's JSON answer becomes the HTTP response.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http_io.hpp"
#include "request_facts.hpp"

namespace vespid::ws {

// {"headers"{lowercased},"method","path","query"}, '\n', then the body's bytes as they came
// (VSP_CONN_REST_RAW_BODY, which this transport sets): the host checks that they are UTF-8.
std::string make_envelope(const Request& req, const Target& target);

// {"status","headers","body"} -> a response with content-length and the request's keep-alive.
// "body" is a string holding the body's text or, as this transport asks of the host
// (VSP_CONN_REST_JSON_BODY), a JSON value whose text is the body. For HEAD the body is left out
// and content-length still says its size. A malformed answer becomes a 500 and `problem` says
// what was wrong (for the log). The common shape is read from one scan of the text, without a
// DOM (json_scan); anything else goes to decode_response_dom.
Response decode_response(std::string_view json, unsigned version, bool keep_alive, bool head,
                         std::string* problem);

// The same reading through nlohmann's DOM, which also words the errors. The one difference: a
// body given as a JSON value is sent as dump() writes it here, as the host wrote it in
// decode_response. fuzz/ws_rest_response_fuzzer.cpp holds the two to the same answers.
Response decode_response_dom(std::string_view json, unsigned version, bool keep_alive, bool head,
                             std::string* problem);

}  // namespace vespid::ws
