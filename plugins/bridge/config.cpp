#include "config.hpp"

#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>
#include <vespid/config_json.hpp>
#include <vespid/plugin.hpp>

namespace vespid::bridge {

namespace {

constexpr const char* kKnownKeys =
    "host, bind, port, dialect, tls, cert_file, key_file, max_line_bytes, max_connections, "
    "send_queue_bytes, threads, busy_poll_us, keepalive, loopback_companion";

// Upper bounds that only catch typos (a limit of 10^15 bytes is a mistake, not a wish).
constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 40;
constexpr std::uint64_t kMaxThreads = 256;
// Past 10 ms a thread that polls is simply a thread that never sleeps.
constexpr std::uint64_t kMaxBusyPollUs = 10000;

[[noreturn]] void invalid(const std::string& message) {
  vsp::config::invalid("bridge", message);
}

[[noreturn]] void wrong_type(const std::string& key, const char* expected,
                             const nlohmann::json& got) {
  invalid("config key \"" + key + "\" must be " + expected + ", got " + got.dump());
}

std::uint64_t integer_in(const std::string& key, const nlohmann::json& v, std::uint64_t lo,
                         std::uint64_t hi, const char* expected) {
  if (!v.is_number_integer()) wrong_type(key, expected, v);
  if (v.is_number_unsigned()) {
    const auto n = v.get<std::uint64_t>();
    if (n >= lo && n <= hi) return n;
  }
  wrong_type(key, expected, v);
}

bool boolean(const std::string& key, const nlohmann::json& v) {
  if (!v.is_boolean()) wrong_type(key, "a boolean", v);
  return v.get<bool>();
}

std::string nonempty_string(const std::string& key, const nlohmann::json& v) {
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
    wrong_type(key, "a non-empty string", v);
  }
  return v.get<std::string>();
}

std::string resolve_host(const nlohmann::json& v) {
  constexpr const char* expected =
      "a string: \"loopback\", \"lan\" or an IPv4/IPv6 address literal";
  if (!v.is_string()) wrong_type("host", expected, v);
  const auto& s = v.get_ref<const std::string&>();
  if (s == "loopback") return "127.0.0.1";
  if (s == "lan") return "0.0.0.0";
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(s, ec);
  if (ec) wrong_type("host", expected, v);
  return addr.to_string();
}

}  // namespace

Config parse_config(std::string_view json) {
  const nlohmann::json doc = vsp::config::parse_object(json, "bridge");

  Config cfg;
  for (const auto& [key, v] : doc.items()) {
    if (key == "host") {
      cfg.host = resolve_host(v);
    } else if (key == "bind") {
      cfg.bind = nonempty_string(key, v);
    } else if (key == "port") {
      cfg.port = static_cast<std::uint16_t>(
          integer_in(key, v, 0, 65535, "an integer from 0 to 65535 (0: ephemeral)"));
    } else if (key == "dialect") {
      cfg.dialect = nonempty_string(key, v);
    } else if (key == "tls") {
      cfg.tls = boolean(key, v);
    } else if (key == "cert_file") {
      cfg.cert_file = nonempty_string(key, v);
    } else if (key == "key_file") {
      cfg.key_file = nonempty_string(key, v);
    } else if (key == "max_line_bytes") {
      cfg.max_line_bytes = integer_in(key, v, 1, kMaxBytes, "a positive integer");
    } else if (key == "max_connections") {
      cfg.max_connections = integer_in(key, v, 1, kMaxBytes, "a positive integer");
    } else if (key == "send_queue_bytes") {
      cfg.send_queue_bytes = integer_in(key, v, 1024, kMaxBytes, "an integer of at least 1024");
    } else if (key == "threads") {
      cfg.threads =
          static_cast<unsigned>(integer_in(key, v, 1, kMaxThreads, "an integer from 1 to 256"));
    } else if (key == "busy_poll_us") {
      cfg.busy_poll_us = static_cast<std::uint32_t>(
          integer_in(key, v, 0, kMaxBusyPollUs, "an integer from 0 to 10000 (microseconds)"));
    } else if (key == "keepalive") {
      cfg.keepalive = boolean(key, v);
    } else if (key == "loopback_companion") {
      cfg.loopback_companion = boolean(key, v);
    } else {
      invalid("unknown config key \"" + key + "\" (known keys: " + kKnownKeys + ")");
    }
  }
  if (cfg.bind && doc.contains("host")) {
    invalid(
        "config keys \"host\" and \"bind\" exclude each other; use \"bind\" (it also "
        "takes \"loopback\", \"lan\" and addresses)");
  }
  return cfg;
}

std::optional<std::string> parse_path_value(const std::string& json_text, const char* key) {
  if (json_text.empty()) return std::nullopt;
  nlohmann::json v;
  try {
    v = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error&) {
    invalid(std::string("the gateway's ") + key + " is not valid JSON: " + json_text);
  }
  if (v.is_null()) return std::nullopt;
  if (!v.is_string()) {
    invalid(std::string("the gateway's ") + key + " must be a string, got " + v.dump());
  }
  if (v.get_ref<const std::string&>().empty()) return std::nullopt;  // "": the default
  return v.get<std::string>();
}

}  // namespace vespid::bridge
