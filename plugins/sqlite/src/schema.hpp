// Brings a freshly opened connection to a usable state: connection pragmas (WAL, durability,
// busy timeout, size cap) and the plugin's own schema, created on first use and version-checked
// on every open.
#pragma once

#include <cstdint>
#include <string>

#include "config.hpp"
#include "db.hpp"

namespace vespid::sqlite {

// The schema this build creates and understands, recorded in PRAGMA user_version. Bump it (and
// add an upgrade step in ensure_schema) whenever the tables change.
inline constexpr int kSchemaVersion = 2;

struct PragmaOutcome {
  // The cap SQLite actually applied, in pages (0 when max_size_mb is 0). SQLite never lowers it
  // below the current file size, so this can exceed what the config asked for.
  uint64_t max_page_count = 0;
  uint64_t requested_page_count = 0;
  uint64_t page_size = 0;
};

PragmaOutcome apply_pragmas(Db& db, const Config& cfg);

struct SchemaOutcome {
  uint64_t revision = 0;    // the last committed revision (0 for a new store)
  int upgraded_from = 0;    // the schema version this open upgraded from, or 0
  uint64_t rows_moved = 0;  // rows the upgrade carried over
};

// Creates the tables on an empty database, upgrades an older schema version in one
// transaction, refuses a newer one or a foreign database.
SchemaOutcome ensure_schema(Db& db);

}  // namespace vespid::sqlite
