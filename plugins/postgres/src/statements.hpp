// Every SQL statement the plugin runs, written once for a given schema name, and the session
// setup (settings and prepared statements) each new connection gets before its first use.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "request.hpp"

namespace vespid::postgres {

// Names of the prepared statements (per session; the server forgets them on disconnect).
inline constexpr const char* kGet = "vsp_get";
inline constexpr const char* kScanFwdAll = "vsp_scan_fa";
inline constexpr const char* kScanFwdRange = "vsp_scan_fr";
inline constexpr const char* kScanRevAll = "vsp_scan_ra";
inline constexpr const char* kScanRevRange = "vsp_scan_rr";
inline constexpr const char* kLock = "vsp_lock";
inline constexpr const char* kTxn = "vsp_txn";
inline constexpr const char* kLog = "vsp_log";
inline constexpr const char* kCheck = "vsp_check";
inline constexpr const char* kSurvived = "vsp_survived";
inline constexpr const char* kSync = "vsp_sync";
inline constexpr const char* kSkipLost = "vsp_skip_lost";

// The schema version this build creates and understands, stored in meta ('schema_version').
// Bump it, and add an upgrade step in schema.cpp, whenever the tables change.
inline constexpr int64_t kSchemaVersion = 1;

class Sql {
 public:
  // `schema` is already validated as a plain identifier (config.cpp).
  explicit Sql(const std::string& schema);

  const std::string& schema() const noexcept { return schema_; }
  // `"schema".name`, for statements written elsewhere (schema.cpp).
  std::string table(const char* name) const;

  // What every new session runs first: raise synchronous_commit to on if the server's default
  // is off (a commit must be durable when it returns), bound how long a session may sit idle
  // inside a transaction and wait for a lock, plan statements once (generic plans), and
  // prepare every statement.
  std::vector<Statement> session_setup(std::chrono::milliseconds lock_timeout) const;

  // The tables, for a new store (schema.cpp runs them in one transaction).
  std::vector<std::string> create_tables() const;

 private:
  std::string schema_;
  std::string q_;  // the quoted schema name
};

}  // namespace vespid::postgres
