#include "config.hpp"

#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <vespid/config_json.hpp>
#include <vespid/plugin.hpp>

namespace vespid::ws {

namespace {

using nlohmann::json;

constexpr uint64_t kMaxLimit = uint64_t{1} << 40;  // keeps size arithmetic far from overflow

[[noreturn]] void invalid(const std::string& message) {
  vsp::config::invalid("ws", message);
}

[[noreturn]] void wrong(const std::string& key, const char* expected, const json& got) {
  invalid("config key \"" + key + "\" must be " + expected + ", got " + got.dump());
}

uint64_t integer(const json& v, const std::string& key, uint64_t min, uint64_t max,
                 const char* expected) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
    wrong(key, expected, v);
  }
  const uint64_t n = v.get<uint64_t>();
  if (n < min || n > max) wrong(key, expected, v);
  return n;
}

std::size_t positive(const json& v, const std::string& key) {
  return static_cast<std::size_t>(integer(v, key, 1, kMaxLimit, "a positive integer"));
}

bool boolean(const json& v, const std::string& key) {
  if (!v.is_boolean()) wrong(key, "true or false", v);
  return v.get<bool>();
}

std::string string(const json& v, const std::string& key) {
  if (!v.is_string()) wrong(key, "a string", v);
  return v.get<std::string>();
}

std::string parse_host(const json& v) {
  const std::string text = string(v, "host");
  if (text == "loopback") return "127.0.0.1";
  if (text == "lan") return "0.0.0.0";
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(text, ec);
  if (ec) wrong("host", "\"loopback\", \"lan\" or an IP address", v);
  return addr.to_string();
}

Route parse_route(const json& v, std::size_t index, std::set<std::string>& seen) {
  const std::string at = "routes[" + std::to_string(index) + "]";
  if (!v.is_object()) {
    wrong(at,
          "an object {\"path\" or \"prefix\", \"dialect\", \"websocket\"} or "
          "{\"prefix\", \"static\": true}",
          v);
  }
  Route r;
  bool has_match = false, has_dialect = false, websocket = false, is_static = false;
  for (const auto& [key, value] : v.items()) {
    const std::string name = at + "." + key;
    if (key == "path" || key == "prefix") {
      if (has_match) invalid(at + " must have exactly one of \"path\" and \"prefix\"");
      r.match = string(value, name);
      if (r.match.empty() || r.match.front() != '/') wrong(name, "a path starting with '/'", value);
      r.exact = key == "path";
      has_match = true;
    } else if (key == "dialect") {
      r.dialect = string(value, name);
      if (r.dialect.empty()) wrong(name, "a dialect name", value);
      has_dialect = true;
    } else if (key == "websocket") {
      websocket = boolean(value, name);
    } else if (key == "static") {
      is_static = boolean(value, name);
    } else {
      invalid("unknown config key \"" + name +
              "\" (known keys: path, prefix, dialect, websocket, static)");
    }
  }
  if (!has_match) invalid(at + " needs \"path\" (exact) or \"prefix\"");
  if (is_static) {
    if (has_dialect || websocket) invalid(at + " is static: it takes no dialect and no websocket");
    r.kind = Route::Kind::Static;
  } else {
    if (!has_dialect) invalid(at + " needs a \"dialect\" (or \"static\": true)");
    r.kind = websocket ? Route::Kind::WebSocket : Route::Kind::Http;
    // An HTTP route carries request/response envelopes, which is rest.v1's shape; every other
    // dialect is message-oriented and needs a WebSocket.
    if (!websocket && r.dialect != "rest.v1") {
      invalid(at + ".dialect: an HTTP route speaks \"rest.v1\"; use \"websocket\": true for \"" +
              r.dialect + "\"");
    }
  }
  const std::string id = (r.exact ? "path " : "prefix ") + r.match;
  if (!seen.insert(id).second) invalid(at + " repeats the " + id);
  return r;
}

}  // namespace

Config parse_config(std::string_view text) {
  const json doc = vsp::config::parse_object(text, "ws");

  Config cfg;
  const json* routes = nullptr;
  for (const auto& [key, v] : doc.items()) {
    if (key == "host") {
      cfg.host = parse_host(v);
    } else if (key == "bind") {
      cfg.bind = string(v, key);
      if (cfg.bind->empty()) wrong(key, "a non-empty bind spec (tailnet, auto, lan, ...)", v);
    } else if (key == "loopback_companion") {
      cfg.loopback_companion = boolean(v, key);
    } else if (key == "port") {
      cfg.port = static_cast<uint16_t>(integer(v, key, 0, 65535, "an integer from 0 to 65535"));
    } else if (key == "tls") {
      cfg.tls = boolean(v, key);
    } else if (key == "cert_file") {
      cfg.cert_file = string(v, key);
    } else if (key == "key_file") {
      cfg.key_file = string(v, key);
    } else if (key == "tls_ciphersuites") {
      cfg.tls_ciphersuites = string(v, key);
      if (cfg.tls_ciphersuites.empty())
        wrong(key, "a non-empty list such as \"TLS_AES_128_GCM_SHA256\"", v);
    } else if (key == "routes") {
      if (!v.is_array()) wrong(key, "an array of route objects", v);
      routes = &v;
    } else if (key == "max_message_bytes") {
      cfg.max_message_bytes = positive(v, key);
    } else if (key == "max_body_bytes") {
      cfg.max_body_bytes = positive(v, key);
    } else if (key == "max_header_bytes") {
      cfg.max_header_bytes = positive(v, key);
    } else if (key == "max_pipelined_requests") {
      cfg.max_pipelined_requests =
          integer(v, key, 1, 1024, "an integer from 1 (one request at a time) to 1024");
    } else if (key == "max_connections") {
      cfg.max_connections = positive(v, key);
    } else if (key == "handshake_timeout_ms") {
      cfg.handshake_timeout_ms = positive(v, key);
    } else if (key == "idle_timeout_ms") {
      cfg.idle_timeout_ms = positive(v, key);
    } else if (key == "ping_interval_ms") {
      cfg.ping_interval_ms =
          integer(v, key, 0, kMaxLimit, "a non-negative integer (0 disables pings)");
    } else if (key == "send_queue_bytes") {
      cfg.send_queue_bytes = positive(v, key);
    } else if (key == "threads") {
      cfg.threads = static_cast<unsigned>(integer(v, key, 1, 256, "an integer from 1 to 256"));
    } else if (key == "permessage_deflate") {
      cfg.permessage_deflate = boolean(v, key);
    } else if (key == "static_dir") {
      cfg.static_dir = string(v, key);
    } else if (key == "echo_path") {
      cfg.echo_path = string(v, key);
      if (!cfg.echo_path.empty() && cfg.echo_path.front() != '/') {
        wrong(key, "\"\" (off) or a path starting with '/'", v);
      }
    } else {
      invalid("unknown config key \"" + key +
              "\" (known keys: host, bind, loopback_companion, port, tls, cert_file, key_file, "
              "tls_ciphersuites, "
              "routes, max_message_bytes, "
              "max_body_bytes, max_header_bytes, max_pipelined_requests, max_connections, "
              "handshake_timeout_ms, "
              "idle_timeout_ms, ping_interval_ms, send_queue_bytes, threads, "
              "permessage_deflate, static_dir, echo_path)");
    }
  }

  if (cfg.bind && doc.contains("host")) {
    invalid(
        "config keys \"host\" and \"bind\" exclude each other; use \"bind\" (it also takes "
        "\"loopback\", \"lan\" and addresses)");
  }
  if (routes != nullptr) {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < routes->size(); ++i) {
      cfg.routes.push_back(parse_route((*routes)[i], i, seen));
    }
  } else {
    cfg.routes = default_routes(!cfg.static_dir.empty());
  }
  if (!cfg.echo_path.empty()) {
    for (const auto& r : cfg.routes) {
      if (r.exact && r.match == cfg.echo_path) {
        invalid("config key \"echo_path\" names a path that is already a route (" + r.describe() +
                ")");
      }
    }
    cfg.routes.push_back({true, cfg.echo_path, Route::Kind::Echo, ""});
  }
  for (const auto& r : cfg.routes) {
    if (r.kind == Route::Kind::Static && cfg.static_dir.empty()) {
      invalid("a static route (" + r.describe() + ") needs config key \"static_dir\"");
    }
  }
  return cfg;
}

}  // namespace vespid::ws
