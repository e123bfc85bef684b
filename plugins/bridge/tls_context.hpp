// The server-side TLS context: TLS 1.2 minimum, one certificate chain and key from PEM files.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace vespid::bridge {

// Loads the files and builds the context. Throws vsp::Error naming the file that could not be
// used: VSP_E_PERMISSION when it cannot be read for lack of rights, VSP_E_IO when it is missing,
// VSP_E_INVALID when its contents are not a usable certificate or key (or they do not match).
std::unique_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                                   const std::string& key_file);

}  // namespace vespid::bridge
