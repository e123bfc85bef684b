#include "options.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "dial_url.hpp"

namespace vespid::worker {

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

std::string load_token(const WorkerOptions& o, std::string* warning) {
  if (!o.token_file.empty()) {
    std::ifstream in(o.token_file);
    if (!in) {
      throw ConfigError("cannot read --token-file " + o.token_file + ": " + std::strerror(errno));
    }
    std::string line;
    std::getline(in, line);
    const std::string token = trimmed(line);
    if (token.empty()) {
      throw ConfigError("--token-file " + o.token_file +
                        " is empty; it holds the gateway's internal.token on its first line");
    }
    struct stat st {};
    if (warning != nullptr && ::stat(o.token_file.c_str(), &st) == 0 &&
        (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      *warning = "--token-file " + o.token_file +
                 " can be read by other users; chmod 600 it (it grants the gateway's internal "
                 "routes)";
    }
    return token;
  }
  const std::string token = trimmed(env_or("VESPID_INTERNAL_TOKEN", ""));
  if (token.empty()) {
    throw UsageError(
        "the gateway's internal token is needed: --token-file PATH, or VESPID_INTERNAL_TOKEN "
        "(the value of internal.token in the gateway's config)");
  }
  return token;
}

GatewayEndpoint gateway_endpoint(const WorkerOptions& o, std::string token) {
  GatewayEndpoint e;
  e.url = o.gateway.empty() ? env_or("VESPID_GATEWAY_URL", kDefaultGatewayUrl) : o.gateway;
  DialUrl u;
  try {
    u = parse_dial_url(e.url);
  } catch (const std::invalid_argument& err) {
    throw UsageError("--gateway " + e.url + ": " + err.what());
  }
  if (u.scheme != "http" && u.scheme != "https")
    throw UsageError("--gateway " + e.url + ": the gateway's HTTP API is an http or https URL");
  e.target.tls = u.tls;
  e.target.host = u.host == "localhost" ? "127.0.0.1" : u.host;
  e.target.server_name = u.host;
  e.target.port = std::stoi(u.port);
  e.target.ca_file = o.ca_file.empty() ? env_or("VESPID_CA_FILE", "") : o.ca_file;
  if (!e.target.ca_file.empty() && ::access(e.target.ca_file.c_str(), R_OK) != 0) {
    throw ConfigError("cannot read --ca-file " + e.target.ca_file + ": " + std::strerror(errno));
  }
  e.base_path = u.path;
  while (!e.base_path.empty() && e.base_path.back() == '/') e.base_path.pop_back();
  e.token = std::move(token);
  return e;
}

std::string default_worker_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "worker");
  std::string id = std::string(host) + "-" + std::to_string(::getpid());
  return id.substr(0, 200);
}

WorkerSettings worker_settings(const WorkerOptions& o) {
  WorkerSettings s;
  s.worker_id = o.id.empty() ? default_worker_id() : o.id;
  if (s.worker_id.size() > 200) throw UsageError("--id is at most 200 characters");
  s.concurrency = o.concurrency;
  s.lease_ms = o.lease_ms;
  s.max_node_timeout_ms = o.max_node_timeout_ms;
  return s;
}

std::string worker_version() {
  return VESPID_WORKER_VERSION;
}

}  // namespace vespid::worker
