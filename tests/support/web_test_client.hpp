// The Beast HTTP/WebSocket client (libs/clients/web_client.hpp), under the tests' namespace.
#pragma once

#include "web_client.hpp"  // libs/clients

namespace vespid::test {
using web::Headers;
using web::http_request;
using web::HttpReply;
using web::WebTarget;
using web::WsClient;
}  // namespace vespid::test
