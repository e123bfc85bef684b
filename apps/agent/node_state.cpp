#include "node_state.hpp"

#include <errno.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "private_file.hpp"
#include "tls_pin.hpp"

namespace vespid::agent {

namespace {

using nlohmann::json;

[[noreturn]] void malformed(const std::string& path, const std::string& why) {
  throw NodeStateError("node state file " + path + " is malformed: " + why +
                       " (fix it, or move it away to start as a new node that pairs again)");
}

std::string string_field(const json& j, const char* key, const std::string& path) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) malformed(path, std::string("\"") + key + "\" must be a string");
  return it->get<std::string>();
}

NodeGateway read_gateway(const json& g, const std::string& path) {
  if (!g.is_object()) malformed(path, "\"gateway\" must be an object");
  NodeGateway out;
  out.host = string_field(g, "host", path);
  if (const auto it = g.find("port"); it != g.end()) {
    if (!it->is_number_integer() || *it < 1 || *it > 65535) {
      malformed(path, "\"gateway.port\" must be a port number");
    }
    out.port = it->get<int>();
  }
  out.tls = g.value("tls", false);
  const std::string fp = string_field(g, "tlsFingerprint", path);
  if (!fp.empty()) {
    auto n = normalize_sha256(fp);
    if (!n) malformed(path, "\"gateway.tlsFingerprint\" must be a SHA-256 (64 hex digits)");
    out.tls_fingerprint = *n;
  }
  return out;
}

}  // namespace

std::string new_node_id() {
  std::random_device rd;
  unsigned char b[16];
  for (auto& c : b) c = static_cast<unsigned char>(rd() & 0xFF);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += kHex[b[i] >> 4];
    s += kHex[b[i] & 0x0F];
  }
  return s;
}

std::string resolve_node_state_path(const std::string& flag_value,
                                    const std::string& credentials_path) {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv("VESPID_AGENT_NODE_STATE"); env != nullptr && *env != '\0') {
    return env;
  }
  return dirname_of(credentials_path) + "/node.json";
}

NodeState load_node_state(const std::string& path) {
  NodeState s;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno != ENOENT) {
      throw NodeStateError("cannot read node state file " + path + ": " + std::strerror(errno));
    }
    s.node_id = new_node_id();
    return s;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) malformed(path, "not a JSON object");
  if (j.value("version", 1) != 1) malformed(path, "unknown \"version\" (this agent reads 1)");
  s.node_id = string_field(j, "nodeId", path);
  if (s.node_id.empty()) malformed(path, "\"nodeId\" is missing");
  s.token = string_field(j, "token", path);
  s.display_name = string_field(j, "displayName", path);
  if (const auto it = j.find("gateway"); it != j.end() && !it->is_null()) {
    s.gateway = read_gateway(*it, path);
  }
  if (const auto it = j.find("allow"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) malformed(path, "\"allow\" must be an array of strings");
    for (const auto& a : *it) {
      if (!a.is_string()) malformed(path, "\"allow\" must be an array of strings");
      s.allow.push_back(a.get<std::string>());
    }
  }
  return s;
}

void save_node_state(const std::string& path, const NodeState& s) {
  json j = {{"version", 1}, {"nodeId", s.node_id}};
  if (!s.token.empty()) j["token"] = s.token;
  if (!s.display_name.empty()) j["displayName"] = s.display_name;
  if (s.gateway) {
    json g = {{"host", s.gateway->host}, {"port", s.gateway->port}, {"tls", s.gateway->tls}};
    if (!s.gateway->tls_fingerprint.empty()) g["tlsFingerprint"] = s.gateway->tls_fingerprint;
    j["gateway"] = std::move(g);
  }
  if (!s.allow.empty()) j["allow"] = s.allow;
  try {
    write_private_file(path, j.dump(2) + "\n");
  } catch (const PrivateFileError& e) {
    throw NodeStateError(e.what());
  }
}

}  // namespace vespid::agent
