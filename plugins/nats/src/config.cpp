#include "config.hpp"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>
#include <vespid/config_json.hpp>

namespace vespid::natsbus {
namespace {

constexpr std::string_view kPlugin = "nats";

[[noreturn]] void invalid(const std::string& message) {
  vsp::config::invalid(kPlugin, message);
}

std::string non_empty_string(const nlohmann::json& v, const std::string& key) {
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
    invalid("\"" + key + "\" must be a non-empty string");
  }
  const auto& s = v.get_ref<const std::string&>();
  // libnats takes C strings: a NUL would silently cut the value short.
  if (s.find('\0') != std::string::npos) invalid("\"" + key + "\" must not contain a NUL byte");
  return s;
}

uint64_t parse_uint(const nlohmann::json& v, const std::string& key, uint64_t min, uint64_t max) {
  if (v.is_number_unsigned() && v.get<uint64_t>() >= min && v.get<uint64_t>() <= max) {
    return v.get<uint64_t>();
  }
  invalid("\"" + key + "\" must be an integer from " + std::to_string(min) + " to " +
          std::to_string(max));
}

std::string in_state_dir(const std::string& path, const std::string& state_dir) {
  if (path.empty() || path[0] == '/' || state_dir.empty()) return path;
  return state_dir + "/" + path;
}

std::string_view scheme_of(std::string_view url) {
  const auto colon = url.find("://");
  return colon == std::string_view::npos ? std::string_view() : url.substr(0, colon);
}

void parse_tls(const nlohmann::json& v, TlsConfig& tls, const std::string& state_dir) {
  if (!v.is_object()) invalid("\"tls\" must be an object {ca_file, cert_file, key_file}");
  tls.enabled = true;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string key = "tls." + it.key();
    if (it.key() == "ca_file") {
      tls.ca_file = in_state_dir(non_empty_string(*it, key), state_dir);
    } else if (it.key() == "cert_file") {
      tls.cert_file = in_state_dir(non_empty_string(*it, key), state_dir);
    } else if (it.key() == "key_file") {
      tls.key_file = in_state_dir(non_empty_string(*it, key), state_dir);
    } else if (it.key() == "server_name") {
      tls.server_name = non_empty_string(*it, key);
    } else {
      invalid("unknown config key \"" + key +
              "\" (known keys in tls: ca_file, cert_file, key_file, server_name)");
    }
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    invalid("\"tls.cert_file\" and \"tls.key_file\" go together: set both or neither");
  }
}

}  // namespace

std::string url_host(std::string_view url) {
  auto start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  std::string_view rest = url.substr(start);
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest[0] == '[') {  // [::1]:4222
    const auto close = rest.find(']');
    return close == std::string_view::npos ? std::string() : std::string(rest.substr(1, close - 1));
  }
  return std::string(rest.substr(0, rest.find_first_of(":/")));
}

std::string redact_url(std::string_view url) {
  auto start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  const auto at = url.find('@', start);
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, start)) + "***@" + std::string(url.substr(at + 1));
}

Config parse_config(std::string_view json_text, const std::string& state_dir) {
  const nlohmann::json doc = vsp::config::parse_object(json_text, kPlugin);
  Config cfg;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = *it;
    if (key == "servers") {
      if (!v.is_array() || v.empty()) invalid("\"servers\" must be a non-empty list of URLs");
      cfg.servers.clear();
      for (size_t i = 0; i < v.size(); ++i) {
        std::string url = non_empty_string(v[i], "servers[" + std::to_string(i) + "]");
        const std::string_view scheme = scheme_of(url);
        if (scheme != "nats" && scheme != "tls") {
          invalid("\"servers[" + std::to_string(i) + "]\" must be a nats:// or tls:// URL, got \"" +
                  redact_url(url) + "\"");
        }
        if (url_host(url).empty()) {
          invalid("\"servers[" + std::to_string(i) + "]\" names no host: \"" + redact_url(url) +
                  "\"");
        }
        cfg.servers.push_back(std::move(url));
      }
    } else if (key == "name") {
      cfg.name = non_empty_string(v, key);
    } else if (key == "user") {
      cfg.user = non_empty_string(v, key);
    } else if (key == "password") {
      cfg.password = non_empty_string(v, key);
    } else if (key == "token") {
      cfg.token = non_empty_string(v, key);
    } else if (key == "creds_file") {
      cfg.creds_file = in_state_dir(non_empty_string(v, key), state_dir);
    } else if (key == "tls") {
      parse_tls(v, cfg.tls, state_dir);
    } else if (key == "connect_timeout_ms") {
      cfg.connect_timeout = std::chrono::milliseconds(parse_uint(v, key, 100, 600000));
    } else if (key == "request_timeout_ms") {
      cfg.request_timeout = std::chrono::milliseconds(parse_uint(v, key, 1, 3600000));
    } else if (key == "max_reconnect_wait_ms") {
      cfg.max_reconnect_wait = std::chrono::milliseconds(parse_uint(v, key, 100, 600000));
    } else if (key == "max_pending_bytes") {
      cfg.max_pending_bytes = parse_uint(v, key, 65536, 1024ull * 1024 * 1024);
    } else if (key == "max_sub_pending_msgs") {
      cfg.max_sub_pending_msgs = parse_uint(v, key, 1, 100000000);
    } else if (key == "max_sub_pending_bytes") {
      cfg.max_sub_pending_bytes = parse_uint(v, key, 1024, 1024ull * 1024 * 1024);
    } else if (key == "connect_required") {
      if (!v.is_boolean()) invalid("\"connect_required\" must be true or false");
      cfg.connect_required = v.get<bool>();
    } else if (key == "prompt_writes") {
      if (!v.is_boolean()) invalid("\"prompt_writes\" must be true or false");
      cfg.prompt_writes = v.get<bool>();
    } else {
      invalid("unknown config key \"" + key +
              "\" (known keys: servers, name, user, password, token, creds_file, tls, "
              "connect_timeout_ms, request_timeout_ms, max_reconnect_wait_ms, max_pending_bytes, "
              "max_sub_pending_msgs, max_sub_pending_bytes, connect_required, prompt_writes)");
    }
  }
  if (!cfg.password.empty() && cfg.user.empty()) invalid("\"password\" needs \"user\"");
  if (!cfg.user.empty() && cfg.password.empty()) invalid("\"user\" needs \"password\"");
  const int ways = !cfg.user.empty() + !cfg.token.empty() + !cfg.creds_file.empty();
  if (ways > 1) {
    invalid(
        "set one way to authenticate: \"user\" and \"password\", \"token\", or "
        "\"creds_file\"");
  }
  for (const auto& url : cfg.servers) {
    if (scheme_of(url) == "tls") cfg.tls.enabled = true;
  }
  if (cfg.tls.enabled) {
    if (cfg.tls.ca_file.empty()) cfg.tls.ca_file = "/etc/ssl/certs/ca-certificates.crt";
    if (cfg.tls.server_name.empty()) {
      // One name for every server: libnats checks a single expected name.
      const std::string first = url_host(cfg.servers.front());
      for (const auto& url : cfg.servers) {
        if (url_host(url) != first) {
          invalid(
              "the servers are on different hosts; set \"tls.server_name\" to the name "
              "their certificates carry");
        }
      }
      // An address has no name to check: only the chain is (and start-up warns).
      in6_addr any{};
      const bool literal = ::inet_pton(AF_INET, first.c_str(), &any) == 1 ||
                           ::inet_pton(AF_INET6, first.c_str(), &any) == 1;
      if (!literal) cfg.tls.server_name = first;
    }
  }
  return cfg;
}

}  // namespace vespid::natsbus
