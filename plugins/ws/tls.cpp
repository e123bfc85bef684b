#include "tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <vespid/plugin.hpp>

namespace vespid::ws {

namespace ssl = boost::asio::ssl;

namespace {

[[noreturn]] void fail(int status, const std::string& what, const boost::system::error_code& ec) {
  throw vsp::Error(status, "ws: " + what + ": " + ec.message());
}

}  // namespace

std::unique_ptr<ssl::context> make_server_tls(const std::string& cert_file,
                                              const std::string& key_file,
                                              const std::string& ciphersuites) {
  if (cert_file.empty() || key_file.empty()) {
    throw vsp::Error(VSP_E_INVALID,
                     "ws: \"tls\" is on but no certificate is configured: set \"cert_file\" and "
                     "\"key_file\" in the instance config or tls.cert_file and tls.key_file in "
                     "the gateway config");
  }
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  if (ec) fail(VSP_E_INTERNAL, "TLS options", ec);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    throw vsp::Error(VSP_E_INTERNAL, "ws: cannot require TLS 1.2");
  }
  // An idle connection then holds no TLS record buffers (memory per idle connection matters).
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  // No server-side session cache and no session tickets, as in the bridge plugin's context: a
  // cached session is kilobytes per connection that outlive it, and clients here (node hosts,
  // operators) hold long-lived connections, so a resumed handshake saves little.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(native, 0);
  // Renegotiation is a DoS lever (a handshake's CPU cost on demand, inside one connection) and a
  // second handshake state machine; nothing needs it. As in the bridge plugin's context.
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  // TLS 1.3 suites in our order of preference, not the client's (OpenSSL's clients put
  // AES-256 first). The default starts with AES-128-GCM-SHA256: as strong a choice for TLS here,
  // fewer AES rounds per record, and a SHA-256 transcript that an idle connection keeps instead
  // of SHA-384's larger state.
  if (SSL_CTX_set_ciphersuites(native, ciphersuites.c_str()) != 1) {
    ERR_clear_error();
    throw vsp::Error(VSP_E_INVALID, "ws: tls_ciphersuites \"" + ciphersuites +
                                        "\" names no TLS 1.3 cipher suite this OpenSSL has (for "
                                        "example \"" +
                                        std::string(kDefaultCiphersuites) + "\")");
  }
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) fail(VSP_E_INVALID, "cannot use certificate file \"" + cert_file + "\"", ec);
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) fail(VSP_E_INVALID, "cannot use key file \"" + key_file + "\"", ec);
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    throw vsp::Error(VSP_E_INVALID, "ws: key file \"" + key_file +
                                        "\" does not match certificate file \"" + cert_file + "\"");
  }
  return ctx;
}

}  // namespace vespid::ws
