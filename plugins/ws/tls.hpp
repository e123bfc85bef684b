// The listener's TLS context: TLS 1.2 and newer, no renegotiation, one certificate chain and key.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace vespid::ws {

// The TLS 1.3 cipher suites offered, in the server's order of preference (the config key
// tls_ciphersuites, OpenSSL's syntax).
inline constexpr const char* kDefaultCiphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// Throws vsp::Error naming the file (or the suite list) that could not be used.
std::unique_ptr<boost::asio::ssl::context> make_server_tls(
    const std::string& cert_file, const std::string& key_file,
    const std::string& ciphersuites = kDefaultCiphersuites);

}  // namespace vespid::ws
