// Test peers: one TCP (optionally TLS) connection each, driven by Beast on a private I/O
// thread, with blocking calls that give up after a timeout. HTTP requests and responses, raw
// bytes, and a WebSocket client.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vespid::ws::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercased names (the last of a repeated one)
  std::vector<std::pair<std::string, std::string>> lines;  // every header line, in order
  std::string body;
  bool keep_alive = false;
};

// A TLS client context that verifies the server against `ca_file` ("" = trusts nothing).
std::shared_ptr<boost::asio::ssl::context> client_tls(const std::string& ca_file);

class Peer {
 public:
  // `tls` null: plain TCP. `rcvbuf` > 0 shrinks the socket's receive buffer (backpressure).
  explicit Peer(uint16_t port, std::shared_ptr<boost::asio::ssl::context> tls = nullptr,
                int rcvbuf = 0);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // TCP connect, then the TLS handshake (verifying "localhost") when TLS.
  boost::system::error_code connect();

  // ---- HTTP ----
  boost::system::error_code write_raw(const std::string& bytes);
  boost::system::error_code write_request(const std::string& method, const std::string& target,
                                          const Headers& headers = {},
                                          const std::string& body = {});
  // `head`: the answer to a HEAD request, whose content-length announces a body never sent.
  std::optional<HttpResponse> read_response(bool head = false);
  std::optional<HttpResponse> request(const std::string& method, const std::string& target,
                                      const Headers& headers = {}, const std::string& body = {});
  // True when the server ends the connection (EOF or reset) within the timeout.
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // ---- WebSocket ----
  // Offer permessage-deflate in the next ws_handshake.
  void enable_deflate() { deflate_ = true; }
  // The upgrade. Returns the server's answer: 101, or its refusal with the body.
  HttpResponse ws_handshake(const std::string& target, const Headers& headers = {});
  boost::system::error_code ws_send(const std::string& message, bool binary = false);
  // The next message; nullopt on error or close (see last_error(), close_code()).
  std::optional<std::string> ws_read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Whether the message ws_read returned last came in binary frames.
  bool last_was_binary() const { return last_binary_; }
  boost::system::error_code ws_close(uint16_t code = 1000);
  uint16_t close_code() const;
  std::string close_reason() const;

  boost::system::error_code last_error() const { return last_error_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  boost::system::error_code last_error_;
  bool deflate_ = false;
  bool last_binary_ = false;
};

}  // namespace vespid::ws::testing
