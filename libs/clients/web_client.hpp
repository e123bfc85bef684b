// HTTP/1.1 and WebSocket client on Boost.Beast, for the CLI's session commands and the
// integration tests: plain or TLS (verifying the server against a CA file, or the system store,
// and a host name; verification is never skipped). Synchronous calls with timeouts, so a silent
// gateway fails a command instead of hanging it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vespid::web {

struct WebTarget {
  std::string host = "127.0.0.1";
  int port = 0;
  bool tls = false;
  std::string ca_file;      // TLS: the CA that signed the gateway's certificate
  std::string server_name;  // TLS: the name to verify (and SNI); default: host
};

struct HttpReply {
  int status = 0;  // 0: no answer (connection failed or closed)
  nlohmann::json body;
  std::string raw_body;
  std::string error;  // transport or TLS failure, when status is 0
  // Every response header as sent, in order, names lowercased; a repeated one (Set-Cookie)
  // appears once per line.
  std::vector<std::pair<std::string, std::string>> headers;
  // The values of one header (`name` lowercase), in order.
  std::vector<std::string> header_values(const std::string& name) const;
  // Set only by the overload with HttpOptions:
  std::string content_type;     // the response's Content-Type, as sent
  bool timed_out = false;       // status 0: HttpOptions::timeout passed first
  bool cancelled = false;       // status 0: HttpOptions::cancelled said stop
  bool body_too_large = false;  // status 0: the body was over HttpOptions::max_body_bytes
};

using Headers = std::map<std::string, std::string>;

// One request on a fresh connection.
HttpReply http_request(const WebTarget& target, const std::string& method, const std::string& path,
                       const Headers& headers = {}, const std::string& body = "");

struct HttpOptions {
  // The whole exchange (name lookup, connect, TLS handshake, request, response) must end within
  // this: a long-poll needs more than the 10 s the overload above allows, and a server that
  // trickles its answer must not hold the caller beyond it either.
  std::chrono::milliseconds timeout{10'000};
  // A response body over this many bytes fails the request (body_too_large).
  std::uint64_t max_body_bytes = 8ull * 1024 * 1024;
  // Polled about every 50 ms while the request is under way; true abandons it (cancelled).
  std::function<bool()> cancelled;
};

// The same with a deadline for the whole exchange, a bound on the body and a way to abandon it
// from another thread's decision. Unlike the overload above, `target.host` may be a name: it is
// looked up (and, for TLS, verified as server_name or host). The Host header is host:port unless
// `headers` sets one.
HttpReply http_request(const WebTarget& target, const std::string& method, const std::string& path,
                       const Headers& headers, const std::string& body, const HttpOptions& options);

class WsClient {
 public:
  explicit WsClient(WebTarget target);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Opens the connection and does the upgrade. Returns 101 on success, else the HTTP status of
  // the refusal (with its JSON body in *refusal), or 0 when the connection failed.
  int connect(const std::string& path, const Headers& headers = {},
              nlohmann::json* refusal = nullptr);
  void send(const nlohmann::json& message);
  void send_text(const std::string& text);
  void send_binary(const std::string& data);
  // One message in several frames: the first part opens it, each further part is a
  // continuation frame, the last one ends it.
  void send_fragmented(const std::vector<std::string>& parts, bool binary);
  // The next text message as JSON, or nullopt on timeout or close (see closed()).
  std::optional<nlohmann::json> read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  struct Message {
    bool binary = false;
    std::string data;
  };
  // The next message as it came, text or binary; nullopt on timeout or close.
  std::optional<Message> read_message(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads until a message with this "type" arrives (others are dropped), or nullopt.
  std::optional<nlohmann::json> read_type(
      const std::string& type, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool closed() const { return closed_; }
  std::string close_reason() const { return close_reason_; }
  // The code of the close frame the server sent (1000, 1009, ...); 0 if none came.
  int close_code() const { return close_code_; }
  void close();

 private:
  struct Impl;
  // Writes one frame (the message's last when `fin`), driven to completion.
  void write_frame(const std::string& data, bool binary, bool fin);

  std::unique_ptr<Impl> impl_;
  bool closed_ = false;
  std::string close_reason_;
  int close_code_ = 0;
};

}  // namespace vespid::web
