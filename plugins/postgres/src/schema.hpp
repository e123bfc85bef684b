// Brings a schema to a usable state at start: creates the tables on first use (one transaction,
// under an advisory lock so that gateways starting together do not race), and otherwise checks
// the stored schema version, refusing a newer one or a schema that holds someone else's tables.
#pragma once

#include <cstdint>
#include <string>
#include <vespid/plugin.hpp>

#include "pool.hpp"
#include "statements.hpp"
#include "target.hpp"

namespace vespid::postgres {

struct SchemaState {
  uint64_t revision = 0;  // the last committed revision (0 for a new store)
  bool created = false;   // the tables were created just now
};

// Storage thread. Throws vsp::Error: VSP_E_UNSUPPORTED for a newer schema version (the message
// names both versions), VSP_E_INVALID for a foreign schema, VSP_E_IO or VSP_E_PERMISSION for the
// server's refusals, with the server named.
SchemaState ensure_schema(Pool& pool, Pool::Lease& lease, const Sql& sql, const Target& target,
                          Clock::time_point deadline);

// Runs `req` and throws vsp::Error(VSP_E_IO) naming the server when the connection failed;
// `doing` says what for ("checking the schema").
void run_or_throw(Pool& pool, Pool::Lease& lease, Request& req, const Target& target,
                  Clock::time_point deadline, const std::string& doing);

}  // namespace vespid::postgres
