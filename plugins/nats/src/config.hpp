// The nats bus's instance configuration: the JSON object the host passes to create(). Only
// parsing and checks live here; turning it into libnats options is options.cpp's job. Every key
// and its default is in README.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vespid::natsbus {

struct TlsConfig {
  bool enabled = false;  // a "tls" object was given, or a server URL is tls://
  // The CA certificates the servers' certificates must chain to. Default: Debian's bundle of
  // the system's trusted CAs.
  std::string ca_file;
  // A client certificate and its key, for servers that ask for one (both or neither).
  std::string cert_file, key_file;
  // The name the servers' certificates must carry. Default: the host of the server URLs.
  std::string server_name;
};

struct Config {
  std::vector<std::string> servers = {"nats://127.0.0.1:4222"};
  std::string name;  // the connection's name as the server shows it; default vespid-<instance>
  // At most one way to authenticate: user and password, a token, or a credentials file (JWT
  // and NKey seed, as `nsc` writes it).
  std::string user, password, token, creds_file;
  TlsConfig tls;
  std::chrono::milliseconds connect_timeout{2000};  // one (re)connect attempt to one server
  std::chrono::milliseconds request_timeout{5000};  // a request's timeout when none is given
  // Reconnect forever, waiting 100 ms after the first round of failed attempts, doubling after
  // each round up to this.
  std::chrono::milliseconds max_reconnect_wait{5000};
  // Bytes of outgoing messages libnats may hold before they are written; beyond it publish and
  // request are refused with VSP_E_OVERFLOW rather than block.
  uint64_t max_pending_bytes = 8ull * 1024 * 1024;
  // Messages and bytes one subscription may have waiting for its handler; beyond either the
  // newest are dropped (and logged: a slow consumer).
  uint64_t max_sub_pending_msgs = 65536;
  uint64_t max_sub_pending_bytes = 64ull * 1024 * 1024;
  // False: start even when no server can be reached, and connect in the background (the bus
  // starts down and reports up when it connects).
  bool connect_required = true;
  // True: what is published is written to the server at once by the plugin's own writer
  // thread (prompt_writer.hpp). False: libnats's flusher writes it about 1 ms later, with
  // fewer writes and PINGs under heavy load.
  bool prompt_writes = true;
};

// Parses and validates. Throws vsp::Error(VSP_E_INVALID) naming the offending key. Relative file
// paths are taken relative to `state_dir`.
Config parse_config(std::string_view json_text, const std::string& state_dir);

// The host part of a server URL ("nats://u:p@host:4222" -> "host"); empty if there is none.
std::string url_host(std::string_view url);

// A server URL with any user:password@ taken out, for logs and messages.
std::string redact_url(std::string_view url);

}  // namespace vespid::natsbus
