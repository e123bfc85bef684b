// Just enough HTTP/1.1 for the bench: building requests and reading responses off a byte
// stream (Content-Length bodies only, which is what the gateway sends), so the dispatch callers
// can pipeline requests on a StreamConn with the same write coalescing as everything else.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vespid::bench {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// One request's bytes. `headers` are "name: value" lines without CRLF.
std::string http_request(std::string_view method, std::string_view path,
                         const std::vector<std::string>& headers, std::string_view body);

// Parses one response at the front of `data`; returns the bytes it took, or 0 if it is not all
// there yet. Throws std::runtime_error on something that is not HTTP.
std::size_t http_parse_response(std::string_view data, HttpResponse& out);

// A blocking request on a fresh connection to 127.0.0.1:port (setup only: pairing).
HttpResponse http_call(int port, std::string_view method, std::string_view path,
                       const std::vector<std::string>& headers, std::string_view body);

// Many requests over one blocking keep-alive connection to 127.0.0.1:port, pipelined `depth` at
// a time (the soak's read-back of everything it wrote). Answers come back in request order.
// Throws std::runtime_error when the connection fails or closes early, or after 30 s of silence.
class HttpPipe {
 public:
  explicit HttpPipe(int port);
  ~HttpPipe();
  HttpPipe(const HttpPipe&) = delete;
  HttpPipe& operator=(const HttpPipe&) = delete;

  // `requests` are whole requests (http_request()); returns one answer per request.
  std::vector<HttpResponse> run(const std::vector<std::string>& requests, std::size_t depth = 32);
  HttpResponse call(const std::string& request) { return run({request}).front(); }
  // Closes the connection now; the next call opens a fresh one.
  void close();

 private:
  void reconnect();
  int port_;
  int fd_ = -1;
  std::string in_;
};

}  // namespace vespid::bench
