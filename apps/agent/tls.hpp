// TLS for every connection the node host makes (pairing, the gateway's wss://, the LLM API):
// peer verification always on, the system trust store plus $VESPID_AGENT_TLS_CA_FILE if set.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <memory>
#include <string>

namespace vespid::agent {

// Throws std::runtime_error if VESPID_AGENT_TLS_CA_FILE is set but cannot be loaded, or
// `extra_ca_file` (a PEM bundle trusted as well, e.g. `node start --tls-ca-file`) cannot.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(
    const std::string& extra_ca_file = {});

// Before the handshake: SNI and host name verification for `host` (an IP literal is checked
// against the certificate's IP addresses). `pinned` (tls_pin.hpp): SNI only, the pin decides.
// Throws std::runtime_error.
void prepare_client_tls(SSL* ssl, const std::string& host, bool pinned = false);

}  // namespace vespid::agent
