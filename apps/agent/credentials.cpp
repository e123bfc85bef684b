#include "credentials.hpp"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

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

std::string dirname_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void make_dirs(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw CredentialsError(dir + " exists and is not a directory");
    return;
  }
  if (dir != "/" && dir != ".") make_dirs(dirname_of(dir));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw CredentialsError("cannot create directory " + dir + ": " + errno_text(errno));
  }
}

void write_all(int fd, const std::string& data, const std::string& path) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw CredentialsError("cannot write " + path + ": " + errno_text(errno));
    }
    off += static_cast<std::size_t>(n);
  }
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
  const std::string dir = dirname_of(path);
  make_dirs(dir);

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
  const std::string text = j.dump(2) + "\n";

  std::random_device rd;
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw CredentialsError("cannot create " + tmp + ": " + errno_text(errno));
  try {
    // The umask cannot widen 0600, but an explicit fchmod documents the intent.
    if (::fchmod(fd, 0600) != 0) {
      throw CredentialsError("cannot chmod " + tmp + ": " + errno_text(errno));
    }
    write_all(fd, text, tmp);
    if (::fsync(fd) != 0) throw CredentialsError("cannot fsync " + tmp + ": " + errno_text(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw CredentialsError("cannot replace " + path + ": " + errno_text(err));
  }
  // Make the rename itself durable.
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string redact_token(const std::string& token) {
  const auto dot = token.find('.');
  if (dot == std::string::npos) return "****";
  return token.substr(0, dot) + ".****";
}

}  // namespace vespid::agent
