// The node host's credentials file: what pairing returned, kept for `start`.
//
// JSON `{agentId, agentToken, organizationId, gatewayWsUrl, apiUrl, name, tags?,
// gatewayTlsSha256?, apiTlsSha256?}`, mode 0600 in a 0700 directory, replaced atomically
// (temporary file, fsync, rename, fsync of the directory). The two fingerprints are the TLS
// pins learned from discovery (tls_pin.hpp); a pin is what verifies that listener from then on.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace vespid::agent {

struct Credentials {
  std::string agent_id;
  std::string agent_token;  // `<orgId>.<secret>`; never logged
  std::string organization_id;
  std::string gateway_ws_url;
  // Further URLs of the same deployment (other gateway instances), tried in turn after
  // gateway_ws_url: saved as gatewayWsUrls (all of them, gateway_ws_url first) when there are any.
  std::vector<std::string> more_gateway_ws_urls;
  std::string api_url;
  std::string name;
  std::vector<std::string> tags;   // as given to `connect --tags`; reported in hello
  std::string gateway_tls_sha256;  // pin for gateway_ws_url (wss); empty: CA verification
  std::string api_tls_sha256;      // pin for api_url (https); empty: CA verification
};

// A file that is missing, unreadable or malformed; what() says which and why.
class CredentialsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --config if given, else $VESPID_AGENT_CONFIG, else ~/.vespid/agent.json.
std::string resolve_credentials_path(const std::string& flag_value);

// Throws CredentialsError.
Credentials load_credentials(const std::string& path);
// Creates missing parent directories (0700). Throws CredentialsError.
void save_credentials(const std::string& path, const Credentials& creds);

// The token with its secret part hidden: `<orgId>.****`.
std::string redact_token(const std::string& token);

}  // namespace vespid::agent
