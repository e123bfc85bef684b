// What the plugin connects to: the config's conninfo merged with its own settings into the
// keyword list libpq's PQconnectStartParams takes, plus the facts the plugin reports about it
// (which server, in host:port form; which TLS mode and why). The conninfo may hold a password:
// nothing here copies it into a label or a message.
#pragma once

#include <string>
#include <vector>

#include "config.hpp"

namespace vespid::postgres {

struct Target {
  // For PQconnectStartParams with expand_dbname = 1: the first pair is ("dbname", conninfo),
  // which libpq expands; the plugin's own settings follow and take precedence.
  std::vector<std::string> keywords;
  std::vector<std::string> values;
  // The server(s) as host:port, comma-separated (a Unix socket directory stands for the host),
  // for messages: "127.0.0.1:5432".
  std::string label;
  // `database "vespid", user "vespid"`, or less when libpq falls back to its own defaults.
  std::string who;
  // The sslmode in effect, and where it came from: "config", "conninfo" or "default".
  std::string sslmode;
  std::string sslmode_origin;
  // Every server named is this machine: a loopback address, "localhost" or a Unix socket.
  bool local = false;
  // When TLS toward a server elsewhere is not fully verified: a sentence the plugin logs as a
  // warning at every start, so that a weak setting is never silent. Empty otherwise.
  std::string tls_warning;
};

// Throws vsp::Error(VSP_E_INVALID) when the conninfo does not parse, or when sslmode or
// sslrootcert is set both in it and in the config. A relative sslrootcert is resolved against
// `state_dir`. `application_name` is the fallback_application_name (the conninfo's wins).
Target resolve_target(const Config& cfg, const std::string& state_dir,
                      const std::string& application_name);

}  // namespace vespid::postgres
