#include "tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <cstdlib>
#include <stdexcept>

namespace vespid::agent {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_client_tls_context(const std::string& extra_ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx->set_default_verify_paths();
  if (const char* ca = std::getenv("VESPID_AGENT_TLS_CA_FILE"); ca != nullptr && *ca != '\0') {
    boost::system::error_code ec;
    ctx->load_verify_file(ca, ec);
    if (ec) {
      throw std::runtime_error(std::string("VESPID_AGENT_TLS_CA_FILE=") + ca +
                               " cannot be loaded as a PEM CA bundle: " + ec.message());
    }
  }
  if (!extra_ca_file.empty()) {
    boost::system::error_code ec;
    ctx->load_verify_file(extra_ca_file, ec);
    if (ec) {
      throw std::runtime_error(extra_ca_file +
                               " cannot be loaded as a PEM CA bundle: " + ec.message());
    }
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

void prepare_client_tls(SSL* ssl, const std::string& host, bool pinned) {
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(host, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (pinned) {
    // The pinned certificate is the identity; names in it are not checked. SNI still helps a
    // gateway that serves several names.
    if (ec && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
      throw std::runtime_error("cannot set TLS SNI for " + host);
    }
    return;
  }
  if (!ec) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
      throw std::runtime_error("cannot set the expected IP address for TLS verification");
    }
    (void)ip;
  } else {
    // SNI is for names only (RFC 6066).
    if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
      throw std::runtime_error("cannot set TLS SNI for " + host);
    }
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1) {
      throw std::runtime_error("cannot set the expected host name for TLS verification");
    }
  }
}

}  // namespace vespid::agent
