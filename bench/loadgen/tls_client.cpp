#include "tls_client.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <stdexcept>

namespace vespid::bench {

namespace {

std::string hex_sha256(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return {};
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 15];
  }
  return out;
}

// Replaces chain verification: the one certificate that counts is the server's, and it must be
// the pinned one.
int verify_pin(X509_STORE_CTX* store, void* arg) {
  X509* cert = X509_STORE_CTX_get0_cert(store);
  const auto* pin = static_cast<const std::string*>(arg);
  if (cert != nullptr && hex_sha256(cert) == *pin) return 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

}  // namespace

std::string cert_fingerprint_sha256(const std::string& cert_file) {
  FILE* f = std::fopen(cert_file.c_str(), "r");
  if (!f) throw std::runtime_error("cannot read the gateway's certificate " + cert_file);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!cert) throw std::runtime_error("no PEM certificate in " + cert_file);
  std::string fp = hex_sha256(cert);
  X509_free(cert);
  if (fp.empty()) throw std::runtime_error("cannot hash the certificate " + cert_file);
  return fp;
}

std::shared_ptr<TlsClient> TlsClient::pinning(const std::string& cert_file) {
  return std::make_shared<TlsClient>(cert_fingerprint_sha256(cert_file));
}

TlsClient::TlsClient(std::string pin_sha256)
    : ctx_(boost::asio::ssl::context::tls_client), pin_(std::move(pin_sha256)) {
  // TLS 1.2 at least, as the gateway's listeners; 1.3 is what both ends negotiate.
  SSL_CTX_set_min_proto_version(ctx_.native_handle(), TLS1_2_VERSION);
  // `pin_` lives as long as the context, and so as long as every handshake made with it.
  SSL_CTX_set_cert_verify_callback(ctx_.native_handle(), verify_pin, &pin_);
  ctx_.set_verify_mode(boost::asio::ssl::verify_peer);
}

}  // namespace vespid::bench
