// The bridge transport's configuration, read once at create().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vespid::bridge {

struct Config {
  std::string host = "127.0.0.1";  // resolved: "loopback" and "lan" are already addresses here
  // A bind spec the gateway resolves and keeps watching (ABI 1.1 bind_watch): "loopback",
  // "lan", "tailnet", "auto" or an address. When set, `host` is not used and listeners follow
  // the spec's address set as it changes.
  std::optional<std::string> bind;
  std::uint16_t port = 18790;  // 0: an ephemeral port, logged once bound
  std::string dialect = "bridge.v1";
  bool tls = false;
  // Unset: the gateway's tls.cert_file / tls.key_file, read at start(); when those are unset or
  // empty too, <state_dir>/tls/gateway.crt and gateway.key (the gateway's own defaults).
  std::optional<std::string> cert_file;
  std::optional<std::string> key_file;
  std::size_t max_line_bytes = 1048576;
  std::size_t max_connections = 10000;
  std::size_t send_queue_bytes = 4194304;
  unsigned threads = 1;
  // How long an I/O thread keeps polling its sockets (without sleeping) after its last work,
  // in microseconds; 0 sleeps at once. Trades a core per thread while traffic flows for the
  // wake-up a sleeping thread pays per message (docs/performance.md).
  std::uint32_t busy_poll_us = 0;
  bool keepalive = true;
  bool loopback_companion = true;
};

// Parses the instance's JSON config (an object; "" counts as {}). Throws vsp::Error(VSP_E_INVALID)
// whose message names the offending key and the type it expects.
Config parse_config(std::string_view json);

// Reads the JSON text the host's config_get returned for a file path (a JSON string). Returns
// nullopt when the key was not found, is null, or is "" (the gateway's "use the default").
std::optional<std::string> parse_path_value(const std::string& json_text, const char* key);

}  // namespace vespid::bridge
