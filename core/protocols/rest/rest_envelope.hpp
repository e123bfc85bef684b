// Reading a rest.v1 request envelope ({method, path, query, headers, body}, written by the ws
// plugin) without building a DOM of the whole envelope.
//
// The body is a JSON text inside a JSON string; a DOM of the envelope would hold it as a string
// node only to copy it out again. Here the envelope is scanned once (libs/json_scan), the
// body unescaped straight into the request, and the headers read into a list of pairs (a DOM
// only for a headers object the scan cannot vouch for, such as one of more than 16 members).
// Any shape the scan does not vouch for goes to the DOM reading, which owns every error.
//
// A transport that sets VSP_CONN_REST_RAW_BODY (vespid/host.h) writes the envelope without its
// body, a newline, then the body's bytes as they came: the body is then neither escaped nor
// unescaped, only checked to be UTF-8 text and moved into the request.
#pragma once

#include <string>
#include <string_view>

#include "protocols/rest/rest_dialect.hpp"

namespace vespid::core {

// Fills req's method, path, query, headers and body from `text` and returns true; returns false
// (req's fields then unspecified) when `text` is not an envelope of the usual shape: the caller
// reads it with a DOM instead.
// `body_member`, when given, says whether the envelope has a "body" member at all.
bool read_envelope_typed(std::string_view text, RestRequest& req, bool* body_member = nullptr);

// Fills req from one request message: a whole envelope, or with `raw_body` (the connection's
// VSP_CONN_REST_RAW_BODY) the envelope's head, '\n' and the body, which is moved out of
// `message`. Returns false with `problem` set (the words of the dialect's 400) when the message
// is no envelope of either form, or its body is not UTF-8 text.
bool read_request(std::string& message, bool raw_body, RestRequest& req, std::string& problem);

}  // namespace vespid::core
