// Blocking test peers: a TCP line client and an OpenSSL client that pins the server's
// certificate by the SHA-256 fingerprint of its DER encoding.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace vespid::bridge::testing {

// Lowercase hex SHA-256 over the DER of the first certificate in a PEM file.
std::string cert_fingerprint_sha256(const std::string& pem_file);

class LineClient {
 public:
  enum class End { eof, reset, timeout, error };

  // Connects to ip:port (blocking). `rcvbuf` > 0 sets SO_RCVBUF before connecting (a small
  // window, for backpressure tests). Returns nullptr and fills *error on failure.
  static std::unique_ptr<LineClient> connect(const std::string& ip, uint16_t port,
                                             std::string* error = nullptr, int rcvbuf = 0);
  // As connect, then a TLS handshake that accepts only a server certificate whose SHA-256
  // fingerprint is `pin`. `max_version` (e.g. TLS1_1_VERSION) caps what the client offers.
  static std::unique_ptr<LineClient> connect_tls(const std::string& ip, uint16_t port,
                                                 const std::string& pin,
                                                 std::string* error = nullptr, int max_version = 0);
  ~LineClient();
  LineClient(const LineClient&) = delete;
  LineClient& operator=(const LineClient&) = delete;

  int fd() const { return fd_; }
  uint16_t local_port() const;
  bool tls() const { return ssl_ != nullptr; }

  // Writes all of `data` (any thread, one writer at a time). False if the connection failed.
  bool write_all(std::string_view data);
  // The next line without its '\n', or nullopt at the end of input / after the timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(3));
  // Reads (and discards into *rest) until the stream ends; says how it ended. For TLS, `eof`
  // means a close_notify arrived.
  End read_to_end(std::string* rest = nullptr,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void shutdown_write();

 private:
  LineClient(int fd, SSL_CTX* ctx, SSL* ssl) : fd_(fd), ctx_(ctx), ssl_(ssl) {}
  // Reads some bytes into buf_. >0 bytes read; 0 end of stream; -1 timeout; -2 reset; -3 error.
  int fill(std::chrono::milliseconds timeout);

  int fd_;
  SSL_CTX* ctx_;
  SSL* ssl_;
  std::string buf_;
};

}  // namespace vespid::bridge::testing
