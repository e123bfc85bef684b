// The client side of TLS for the bench's nodes: one OpenSSL context shared by every connection
// to the gateway's TLS listeners. It verifies the server by pinning the SHA-256 fingerprint of
// the gateway's certificate (the self-signed one the gateway generated into its state
// directory), as a node does after `vespid-gateway tls fingerprint`. Verification is never off:
// a server whose certificate does not match the pin fails the handshake.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace vespid::bench {

class TlsClient {
 public:
  // Pins the certificate in `cert_file` (PEM). Throws std::runtime_error naming the file when it
  // cannot be read.
  static std::shared_ptr<TlsClient> pinning(const std::string& cert_file);

  explicit TlsClient(std::string pin_sha256);
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  boost::asio::ssl::context& context() noexcept { return ctx_; }
  // Lowercase hex of the pinned certificate's DER SHA-256.
  const std::string& pin() const noexcept { return pin_; }

 private:
  boost::asio::ssl::context ctx_;
  std::string pin_;
};

// SHA-256 of a PEM certificate's DER encoding, lowercase hex; throws if it cannot be read.
std::string cert_fingerprint_sha256(const std::string& cert_file);

}  // namespace vespid::bench
