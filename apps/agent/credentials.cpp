#include "credentials.hpp"

#include <errno.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "private_file.hpp"
#include "tls_pin.hpp"

namespace vespid::agent {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

std::string home_dir() {
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return home;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return pw->pw_dir;
  }
  throw CredentialsError("cannot find the home directory (HOME is unset); pass --config PATH");
}

std::string required_string(const nlohmann::json& j, const char* key, const std::string& path) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
    throw CredentialsError("credentials file " + path + " is malformed: field \"" + key +
                           "\" is missing or not a non-empty string (pair again with "
                           "`vespid-agent connect`)");
  }
  return it->get<std::string>();
}

// A pin that is present must be a fingerprint: a damaged one must not turn into "no pin" (and
// so into plain CA verification) without anyone noticing.
std::string optional_pin(const nlohmann::json& j, const char* key, const std::string& path) {
  const auto it = j.find(key);
  if (it == j.end() || (it->is_string() && it->get<std::string>().empty())) return {};
  if (it->is_string()) {
    if (auto pin = normalize_sha256(it->get<std::string>())) return *pin;
  }
  throw CredentialsError("credentials file " + path + " is malformed: \"" + key +
                         "\" must be a SHA-256 fingerprint (64 hex digits)");
}

}  // namespace

std::string resolve_credentials_path(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv("VESPID_AGENT_CONFIG"); env != nullptr && *env != '\0') {
    return env;
  }
  return home_dir() + "/.vespid/agent.json";
}

Credentials load_credentials(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw CredentialsError("cannot read credentials file " + path + ": " + errno_text(errno) +
                           " (pair first with `vespid-agent connect --pairing-token T --api URL`)");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw CredentialsError("credentials file " + path + " is not valid JSON: " + e.what());
  }
  if (!j.is_object()) {
    throw CredentialsError("credentials file " + path + " is malformed: expected a JSON object");
  }
  Credentials c;
  c.agent_id = required_string(j, "agentId", path);
  c.agent_token = required_string(j, "agentToken", path);
  c.organization_id = required_string(j, "organizationId", path);
  c.gateway_ws_url = required_string(j, "gatewayWsUrl", path);
  if (const auto it = j.find("gatewayWsUrls"); it != j.end()) {
    bool ok = it->is_array();
    for (size_t i = 0; ok && i < it->size(); ++i) ok = (*it)[i].is_string();
    if (!ok) {
      throw CredentialsError("credentials file " + path +
                             " is malformed: \"gatewayWsUrls\" must be an array of strings");
    }
    for (const auto& u : *it) {
      if (u.get<std::string>() != c.gateway_ws_url) c.more_gateway_ws_urls.push_back(u);
    }
  }
  c.api_url = j.value("apiUrl", std::string());
  c.name = j.value("name", std::string());
  c.gateway_tls_sha256 = optional_pin(j, "gatewayTlsSha256", path);
  c.api_tls_sha256 = optional_pin(j, "apiTlsSha256", path);
  if (const auto it = j.find("tags"); it != j.end()) {
    if (!it->is_array()) {
      throw CredentialsError("credentials file " + path +
                             " is malformed: \"tags\" must be an array of strings");
    }
    for (const auto& t : *it) {
      if (!t.is_string()) {
        throw CredentialsError("credentials file " + path +
                               " is malformed: \"tags\" must be an array of strings");
      }
      c.tags.push_back(t.get<std::string>());
    }
  }
  return c;
}

void save_credentials(const std::string& path, const Credentials& creds) {
  nlohmann::json j = {{"agentId", creds.agent_id},
                      {"agentToken", creds.agent_token},
                      {"organizationId", creds.organization_id},
                      {"gatewayWsUrl", creds.gateway_ws_url},
                      {"apiUrl", creds.api_url},
                      {"name", creds.name},
                      {"tags", creds.tags}};
  if (!creds.more_gateway_ws_urls.empty()) {
    nlohmann::json all = nlohmann::json::array({creds.gateway_ws_url});
    for (const auto& u : creds.more_gateway_ws_urls) all.push_back(u);
    j["gatewayWsUrls"] = std::move(all);
  }
  if (!creds.gateway_tls_sha256.empty()) j["gatewayTlsSha256"] = creds.gateway_tls_sha256;
  if (!creds.api_tls_sha256.empty()) j["apiTlsSha256"] = creds.api_tls_sha256;
  try {
    write_private_file(path, j.dump(2) + "\n");
  } catch (const PrivateFileError& e) {
    throw CredentialsError(e.what());
  }
}

std::string redact_token(const std::string& token) {
  const auto dot = token.find('.');
  if (dot == std::string::npos) return "****";
  return token.substr(0, dot) + ".****";
}

}  // namespace vespid::agent
