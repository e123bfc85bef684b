// HTTP pieces shared by the HTTP and WebSocket sessions: writing one response, the JSON error
// bodies, and closing a connection without losing the last response.
#pragma once

#include <boost/beast/http/message_generator.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "stream.hpp"

namespace vespid::ws {

namespace http = beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// {"code":...,"message":...}: the flat error shape of the REST API (docs/rest-api.md)
std::string error_json(std::string_view code, std::string_view message);

// A complete response with a JSON body (content-type, content-length and keep-alive set).
Response json_response(http::status status, unsigned version, bool keep_alive, std::string body);
Response json_error(http::status status, unsigned version, bool keep_alive, std::string_view code,
                    std::string_view message);

// Writes one whole message. `done` runs on the stream's executor.
void write_message(Stream& stream, http::message_generator message,
                   std::function<void(beast::error_code)> done);

// "HTTP/1.1 100 Continue" for a request that waits for it before sending its body.
void write_continue(Stream& stream, std::function<void(beast::error_code)> done);

// Ends a connection whose last response has been written: TLS close_notify, a half close, then
// reading and discarding what the peer still sends (so unread request bytes do not turn the
// close into a reset that destroys the response) until it closes or `linger_ms` passes.
// `keep` holds the stream's owner alive; `done` runs once the socket is closed.
void linger_close(Stream& stream, std::shared_ptr<void> keep, uint64_t linger_ms,
                  std::function<void()> done);

}  // namespace vespid::ws
