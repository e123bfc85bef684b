// Certificate pinning for a gateway found by discovery. Its TXT record carries the SHA-256 of
// the certificate it serves (the gateway generates a self-signed one), so the node host trusts
// that certificate on first use and keeps the fingerprint in its credentials. With a pin the
// pin IS the verification: the handshake succeeds only when the peer's leaf certificate has
// that fingerprint; the chain and the name are not consulted (nothing would vouch for a
// self-signed certificate). Without a pin nothing changes: CA verification as in tls.hpp.
#pragma once

#include <boost/asio/ssl/verify_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace vespid::agent {

// Lower-case hex without separators ("AB:cd..." -> "abcd..."); nullopt unless it is 32 bytes.
std::optional<std::string> normalize_sha256(const std::string& text);

class TlsPin {
 public:
  TlsPin() = default;
  // `sha256` as normalize_sha256 accepts it, or empty for no pin. Throws std::invalid_argument.
  explicit TlsPin(const std::string& sha256);

  bool empty() const { return sha256_.empty(); }
  const std::string& sha256() const { return sha256_; }

  // For ssl::stream::set_verify_callback before a handshake. Records what the peer presented.
  std::function<bool(bool, boost::asio::ssl::verify_context&)> verifier() const;

  // After a failed handshake: a message naming both fingerprints when the peer's certificate
  // was not the pinned one; empty when the pin was not the cause.
  std::string mismatch(const std::string& peer) const;

  // Installs the pin on a Beast/Asio SSL stream; a no-op without a pin.
  template <class SslStream>
  void apply(SslStream& stream) const {
    if (!empty()) stream.set_verify_callback(verifier());
  }

 private:
  std::string sha256_;
  std::shared_ptr<std::string> presented_ = std::make_shared<std::string>();
};

}  // namespace vespid::agent
