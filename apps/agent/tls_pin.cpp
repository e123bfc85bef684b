#include "tls_pin.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cctype>
#include <stdexcept>

namespace vespid::agent {

namespace {

std::string leaf_sha256(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), md, &len) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

}  // namespace

std::optional<std::string> normalize_sha256(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (out.size() != 64) return std::nullopt;
  return out;
}

TlsPin::TlsPin(const std::string& sha256) {
  if (sha256.empty()) return;
  auto n = normalize_sha256(sha256);
  if (!n) throw std::invalid_argument("not a SHA-256 fingerprint (64 hex digits): " + sha256);
  sha256_ = *n;
}

std::function<bool(bool, boost::asio::ssl::verify_context&)> TlsPin::verifier() const {
  presented_->clear();
  return [pin = sha256_, presented = presented_](bool, boost::asio::ssl::verify_context& ctx) {
    X509_STORE_CTX* store = ctx.native_handle();
    // Only the leaf decides; what OpenSSL thinks of the chain (self-signed, unknown issuer,
    // name mismatch) is what the pin replaces.
    if (X509_STORE_CTX_get_error_depth(store) > 0) return true;
    *presented = leaf_sha256(X509_STORE_CTX_get_current_cert(store));
    return !presented->empty() && *presented == pin;
  };
}

std::string TlsPin::mismatch(const std::string& peer) const {
  if (empty() || presented_->empty() || *presented_ == sha256_) return {};
  return "the TLS certificate of " + peer + " is not the pinned one: pinned sha256 " + sha256_ +
         ", presented sha256 " + *presented_ +
         " (if the gateway's certificate was replaced on purpose, pair again with a new "
         "credentials file)";
}

}  // namespace vespid::agent
