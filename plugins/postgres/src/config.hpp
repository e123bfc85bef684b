// The postgres plugin's instance configuration: the JSON object the host passes to create().
// Only parsing and range checks live here; what the connection string comes to (which server,
// which TLS mode) is target.hpp's job.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vespid::postgres {

struct Config {
  // A libpq connection string ("host=... dbname=...") or URI ("postgresql://..."). Required. It
  // may carry a password, so it is never logged or echoed in a message.
  std::string conninfo;
  // The PostgreSQL schema (namespace) holding the plugin's tables; several stores can share a
  // database under different schemas.
  std::string schema = "vespid";
  // Connections kept open to the server (1 to 64).
  unsigned pool_size = 1;
  // libpq's sslmode and sslrootcert. Unset: see target.hpp for the default, which depends on
  // whether the server is on this machine.
  std::optional<std::string> sslmode;
  std::optional<std::string> sslrootcert;
  // How long one connection attempt may take, TLS and authentication included.
  std::chrono::milliseconds connect_timeout{5000};
  // How long one storage call may wait for the server, reconnecting included. Three quarters
  // of it is the sessions' lock_timeout.
  std::chrono::milliseconds request_timeout{30000};
};

// Parses and validates the config. Throws vsp::Error(VSP_E_INVALID) with a message that names
// the offending key and what it accepts.
Config parse_config(std::string_view json_text);

// The sslmode values libpq accepts, in order of strength.
bool is_sslmode(std::string_view mode);

}  // namespace vespid::postgres
