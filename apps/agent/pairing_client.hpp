// `POST <api>/v1/agents/pair`: trades a single-use pairing token for the agent's credentials.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "credentials.hpp"

namespace vespid::agent {

struct PairingRequest {
  std::string api_url;         // e.g. http://127.0.0.1:3001
  std::string tls_pin_sha256;  // https: the certificate's SHA-256 (tls_pin.hpp); empty: CAs
  std::string pairing_token;
  std::string name;
  std::string agent_version;
  nlohmann::json capabilities;  // sent when not null
  std::vector<std::string> tags;
};

// The gateway refused (4xx/5xx): its `{code, message}`, or the status and a body excerpt.
class PairingRefused : public std::runtime_error {
 public:
  PairingRefused(int status, std::string code, std::string message);
  int status;
  std::string code, message;
};

// Throws PairingRefused, HttpError (cannot reach the API; TlsPinMismatch) or std::runtime_error (an
// answer without the expected fields). The returned credentials carry api_url, name and tags too.
Credentials pair_agent(const PairingRequest& req);

}  // namespace vespid::agent
