#include "schema.hpp"

#include <vespid/plugin.hpp>

namespace vespid::sqlite {
namespace {

// Runs a statement that yields one row and returns its first column as text.
std::string query_text(Db& db, const char* sql, std::string_view doing) {
  Statement st(db, sql);
  Statement::Use use(st);
  if (!st.step(doing)) return {};
  return std::string(st.column_text(0));
}

int64_t query_int(Db& db, const char* sql, std::string_view doing) {
  Statement st(db, sql);
  Statement::Use use(st);
  if (!st.step(doing)) {
    throw vsp::Error(VSP_E_IO, "sqlite: " + std::string(doing) + " \"" + db.path() +
                                   "\" returned no row; the file is damaged");
  }
  return st.column_int64(0);
}

// Keys are BLOBs so that SQLite orders them with memcmp, shorter first on a tie: exactly the
// ABI's bytewise order. `version` is the revision that last wrote the key.
//
// Why a rowid table, with the key in its own index (schema 2), and not WITHOUT ROWID (schema 1):
// a WITHOUT ROWID table is a b-tree of whole rows, so a row whose value does not fit in its page
// spills onto overflow pages, and SQLite reads all of them to compare a key with that row during
// any seek that passes it (a dispatch's 64 KiB payload: sixteen pages read and copied per
// comparison, for every compare, put and delete of a nearby key). Here the index holds only
// (key, rowid), so seeks never touch a value, and a value is read only when it is asked for.
// `version` comes before `value` so that reading it never walks the value's overflow pages.
#define VESPID_SQLITE_KV_COLUMNS     \
  "  key BLOB NOT NULL PRIMARY KEY," \
  "  version INTEGER NOT NULL,"      \
  "  value BLOB NOT NULL"

constexpr const char* kCreateSchema =
    "CREATE TABLE kv (" VESPID_SQLITE_KV_COLUMNS
    ");"
    // One row per named counter; today only the store's last committed revision.
    "CREATE TABLE meta ("
    "  name TEXT NOT NULL PRIMARY KEY,"
    "  value INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT INTO meta (name, value) VALUES ('revision', 0);"
    "PRAGMA user_version = 2;";

// Schema 1 to 2: the same rows in the layout above. Runs inside ensure_schema's transaction, so
// a failure (a full disk, max_size_mb: the rows exist twice until the old table is dropped)
// leaves the file at schema 1, untouched.
constexpr const char* kUpgrade1To2 =
    "ALTER TABLE kv RENAME TO kv_schema1;"
    "CREATE TABLE kv (" VESPID_SQLITE_KV_COLUMNS
    ");"
    "INSERT INTO kv (key, version, value) SELECT key, version, value FROM kv_schema1 ORDER BY key;"
    "DROP TABLE kv_schema1;"
    "PRAGMA user_version = 2;";

#undef VESPID_SQLITE_KV_COLUMNS

static_assert(kSchemaVersion == 2, "kCreateSchema and kUpgrade1To2 write user_version 2");

}  // namespace

PragmaOutcome apply_pragmas(Db& db, const Config& cfg) {
  db.set_busy_timeout(cfg.busy_timeout_ms);

  // WAL: readers never block the writer, and a commit is one append (plus one fsync with
  // synchronous=FULL) instead of a rollback journal's several.
  std::string mode = query_text(db, "PRAGMA journal_mode = WAL", "enabling WAL on");
  if (mode != "wal") {
    throw vsp::Error(VSP_E_IO, "sqlite: could not switch \"" + db.path() +
                                   "\" to WAL journal mode (it stayed in \"" + mode + "\" mode)");
  }

  // In WAL mode, FULL syncs the WAL on every commit (durable across power loss); NORMAL syncs
  // only at checkpoints (durable across a process crash, not necessarily a power loss). With
  // "full" configured, Store switches to NORMAL for a commit_unsynced and back for a commit.
  db.exec(cfg.synchronous == Synchronous::kFull ? "PRAGMA synchronous = FULL"
                                                : "PRAGMA synchronous = NORMAL",
          "setting synchronous on");

  PragmaOutcome out;
  if (cfg.max_size_mb > 0) {
    out.page_size =
        static_cast<uint64_t>(query_int(db, "PRAGMA page_size", "reading page_size of"));
    out.requested_page_count = cfg.max_size_mb * 1024u * 1024u / out.page_size;
    std::string sql = "PRAGMA max_page_count = " + std::to_string(out.requested_page_count);
    out.max_page_count =
        static_cast<uint64_t>(query_int(db, sql.c_str(), "setting max_page_count on"));
  }
  return out;
}

SchemaOutcome ensure_schema(Db& db) {
  // IMMEDIATE takes the write lock up front, so two processes opening a new file at once cannot
  // both decide to create the schema.
  db.exec("BEGIN IMMEDIATE", "starting the schema check on");
  try {
    int64_t version = query_int(db, "PRAGMA user_version", "reading the schema version of");
    if (version > kSchemaVersion) {
      throw vsp::Error(VSP_E_UNSUPPORTED,
                       "sqlite: \"" + db.path() + "\" has schema version " +
                           std::to_string(version) +
                           " but this vespid-sqlite understands only up "
                           "to version " +
                           std::to_string(kSchemaVersion) +
                           "; it was written by a newer vespid-sqlite, use that one");
    }
    if (version == 0) {
      // A database with tables but no schema version belongs to someone else: never write into
      // it.
      if (query_int(db, "SELECT count(*) FROM sqlite_schema", "inspecting") != 0) {
        throw vsp::Error(VSP_E_INVALID, "sqlite: \"" + db.path() +
                                            "\" is an SQLite database but not a vespid-sqlite "
                                            "one (it has tables and no schema version)");
      }
      db.exec(kCreateSchema, "creating the schema in");
    }
    SchemaOutcome out;
    if (version == 1) {
      db.exec(kUpgrade1To2, "upgrading the schema (version 1 to 2) of");
      out.upgraded_from = 1;
      out.rows_moved =
          static_cast<uint64_t>(query_int(db, "SELECT count(*) FROM kv", "counting the rows of"));
    }
    int64_t revision =
        query_int(db, "SELECT value FROM meta WHERE name = 'revision'", "reading the revision of");
    if (revision < 0) {
      throw vsp::Error(VSP_E_IO, "sqlite: \"" + db.path() + "\" holds a negative revision (" +
                                     std::to_string(revision) + "); the file is damaged");
    }
    db.exec("COMMIT", "committing the schema in");
    out.revision = static_cast<uint64_t>(revision);
    return out;
  } catch (...) {
    if (sqlite3_get_autocommit(db.handle()) == 0) {
      sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    throw;
  }
}

}  // namespace vespid::sqlite
