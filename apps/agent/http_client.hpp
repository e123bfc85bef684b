// A small blocking HTTP/1.1 client (Beast underneath) for pairing and the LLM API: one request
// per connection, http or https (verified, see tls.hpp), the body optionally streamed to a
// callback as it arrives. Runs a private io_context on the calling thread.
#pragma once

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vespid::agent {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // No progress (connect, TLS, a read or a write) for this long fails the request.
  std::chrono::milliseconds idle_timeout{30'000};
  // The whole exchange; zero means no limit beyond the idle timeout.
  std::chrono::milliseconds total_timeout{0};
  // Polled a few times a second; returning true abandons the request (HttpError "cancelled").
  std::function<bool()> cancelled;
  // https only: the server's certificate must have this SHA-256 (tls_pin.hpp) instead of
  // passing CA verification. Empty: CA verification.
  std::string tls_pin_sha256;
};

struct HttpResponse {
  int status = 0;
  std::string content_type;
  // The body, unless it went to a BodySink. Bodies of answers that are not 2xx are always
  // kept here (up to 64 KiB) so errors can be reported.
  std::string body;
};

// Called with each piece of a 2xx body as it arrives; returning false stops reading (the
// request then ends without error).
using BodySink = std::function<bool(std::string_view)>;

// DNS, connect, TLS or I/O failure, or a timeout; what() says which.
class HttpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The server presented another certificate than the pinned one; what() names both.
class TlsPinMismatch : public HttpError {
 public:
  using HttpError::HttpError;
};

// Throws HttpError (TlsPinMismatch), or std::invalid_argument for a bad URL or pin.
HttpResponse http_fetch(const HttpRequest& request, const BodySink& sink = {});

}  // namespace vespid::agent
