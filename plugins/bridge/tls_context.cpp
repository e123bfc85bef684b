#include "tls_context.hpp"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cstring>
#include <vespid/plugin.hpp>

namespace vespid::bridge {

namespace {

// The most recent OpenSSL error as text (and the queue cleared), or `fallback`.
std::string openssl_error(const char* fallback) {
  unsigned long e = 0;
  unsigned long last = 0;
  while ((e = ::ERR_get_error()) != 0) last = e;
  if (last == 0) return fallback;
  char buf[256];
  ::ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

void check_readable(const std::string& path, const char* what) {
  if (::access(path.c_str(), R_OK) == 0) return;
  const int e = errno;
  const int status = (e == EACCES || e == EPERM) ? VSP_E_PERMISSION : VSP_E_IO;
  throw vsp::Error(status, std::string("bridge: cannot read the TLS ") + what + " " + path + ": " +
                               std::strerror(e));
}

}  // namespace

std::unique_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                                   const std::string& key_file) {
  check_readable(cert_file, "certificate");
  check_readable(key_file, "key");

  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  if (::SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    throw vsp::Error(VSP_E_INTERNAL,
                     "bridge: cannot require TLS 1.2: " + openssl_error("unknown error"));
  }
  // Idle connections give their record buffers back to the allocator (thousands of idle nodes).
  ::SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  // Partial writes: SSL_write returns after each record, so the write loop tracks progress.
  ::SSL_CTX_set_mode(native, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // No session cache and no tickets: nodes reconnect rarely, and both are state to bound.
  ::SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  ::SSL_CTX_set_num_tickets(native, 0);
  // Renegotiation is a DoS lever and a second handshake state machine; nothing needs it.
  ::SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);

  ::ERR_clear_error();
  if (::SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) {
    throw vsp::Error(VSP_E_INVALID, "bridge: cannot use the TLS certificate " + cert_file + ": " +
                                        openssl_error("not a PEM certificate"));
  }
  if (::SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw vsp::Error(VSP_E_INVALID, "bridge: cannot use the TLS key " + key_file + ": " +
                                        openssl_error("not a PEM private key"));
  }
  if (::SSL_CTX_check_private_key(native) != 1) {
    throw vsp::Error(VSP_E_INVALID, "bridge: the TLS key " + key_file +
                                        " does not match the certificate " + cert_file + ": " +
                                        openssl_error("mismatch"));
  }
  return ctx;
}

}  // namespace vespid::bridge
