// The listener's TLS context: TLS 1.2 and newer, no renegotiation, one certificate chain and key.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace vespid::ws {

// Throws vsp::Error naming the file that could not be used.
std::unique_ptr<boost::asio::ssl::context> make_server_tls(const std::string& cert_file,
                                                           const std::string& key_file);

}  // namespace vespid::ws
