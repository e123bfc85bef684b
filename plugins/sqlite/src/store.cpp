#include "store.hpp"

#include <limits>
#include <vespid/plugin.hpp>

namespace vespid::sqlite {
namespace {

std::string_view bytes(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

const uint8_t* u8(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

[[noreturn]] void invalid(const std::string& message) {
  throw vsp::Error(VSP_E_INVALID, "sqlite: " + message);
}

// Which part of a batch a message is about ("commit: txn 2 write 0 key"), made only when there
// is something to say: the usual batch is valid and builds no text.
struct Where {
  size_t txn;
  const char* part;  // "compares", "compare", "writes" or "write"
  size_t index = 0;
  const char* field = nullptr;  // "key", "value", or null for the part itself

  std::string text() const {
    // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict, wrongly) on a chain of `+`.
    std::string s = "commit: txn ";
    s += std::to_string(txn);
    s += ' ';
    s += part;
    if (field != nullptr) {
      s += ' ';
      s += std::to_string(index);
      s += ' ';
      s += field;
    }
    return s;
  }
};

void check_bytes(const void* p, size_t n, const Where& where) {
  if (p == nullptr && n > 0) invalid(where.text() + " is NULL with a non-zero length");
}

void check_bytes(const void* p, size_t n, const char* what) {
  if (p == nullptr && n > 0) invalid(std::string(what) + " is NULL with a non-zero length");
}

// Rejects a malformed batch before anything is written, so a bad write op in the last
// transaction cannot leave the earlier ones half-applied.
void validate_batch(const vsp_txn* txns, size_t count, const vsp_txn_result* results) {
  if (count == 0) return;
  if (txns == nullptr || results == nullptr) invalid("commit: txns or results is NULL");
  for (size_t i = 0; i < count; ++i) {
    const vsp_txn& t = txns[i];
    if (t.compare_count > std::numeric_limits<uint32_t>::max())
      invalid("commit: txn " + std::to_string(i) + " has too many compares");
    check_bytes(t.compares, t.compare_count, {i, "compares"});
    check_bytes(t.writes, t.write_count, {i, "writes"});
    for (size_t c = 0; c < t.compare_count; ++c) {
      const vsp_compare& cmp = t.compares[c];
      if (cmp.op != VSP_CMP_ABSENT && cmp.op != VSP_CMP_PRESENT && cmp.op != VSP_CMP_VERSION) {
        invalid("commit: txn " + std::to_string(i) + " compare " + std::to_string(c) +
                " has unknown op " + std::to_string(cmp.op));
      }
      check_bytes(cmp.key, cmp.key_len, {i, "compare", c, "key"});
    }
    for (size_t w = 0; w < t.write_count; ++w) {
      const vsp_write& wr = t.writes[w];
      if (wr.op != VSP_WRITE_PUT && wr.op != VSP_WRITE_DELETE) {
        invalid("commit: txn " + std::to_string(i) + " write " + std::to_string(w) +
                " has unknown op " + std::to_string(wr.op));
      }
      check_bytes(wr.key, wr.key_len, {i, "write", w, "key"});
      if (wr.op == VSP_WRITE_PUT) check_bytes(wr.value, wr.value_len, {i, "write", w, "value"});
    }
  }
}

// Revisions are stored as SQLite INTEGERs (signed 64-bit); the ABI's uint64 never gets near
// the sign bit in practice, and this keeps the conversion in one place.
int64_t to_sql(uint64_t v) {
  return static_cast<int64_t>(v);
}

}  // namespace

std::unique_ptr<Store> Store::open(const std::string& path, const Config& cfg,
                                   PragmaOutcome* pragmas, SchemaOutcome* schema) {
  Db db = Db::open(path);
  PragmaOutcome p = apply_pragmas(db, cfg);
  if (pragmas != nullptr) *pragmas = p;
  const SchemaOutcome s = ensure_schema(db);
  if (schema != nullptr) *schema = s;
  return std::unique_ptr<Store>(
      new Store(std::move(db), s.revision, cfg.synchronous == Synchronous::kFull));
}

Store::Store(Db db, uint64_t revision, bool syncs_commits)
    : db_(std::move(db)),
      revision_(revision),
      syncs_commits_(syncs_commits),
      connection_full_(syncs_commits),
      get_(db_, "SELECT value, version FROM kv WHERE key = ?1"),
      version_of_(db_, "SELECT version FROM kv WHERE key = ?1"),
      // An upsert rather than INSERT OR REPLACE, which would delete an existing key's row and
      // insert it again under a new rowid: this overwrites its version and value in place.
      put_(db_,
           "INSERT INTO kv (key, value, version) VALUES (?1, ?2, ?3) "
           "ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version"),
      delete_(db_, "DELETE FROM kv WHERE key = ?1"),
      get_revision_(db_, "SELECT value FROM meta WHERE name = 'revision'"),
      set_revision_(db_, "UPDATE meta SET value = ?1 WHERE name = 'revision'"),
      // IMMEDIATE takes the write lock now, so a busy database shows up (after busy_timeout)
      // at BEGIN instead of half-way through a batch.
      begin_(db_, "BEGIN IMMEDIATE"),
      commit_(db_, "COMMIT"),
      rollback_(db_, "ROLLBACK"),
      // A negative LIMIT means "no limit" to SQLite, so limit 0 binds -1 and one statement
      // serves both. ?2 is unused by the unbounded shapes.
      scan_fwd_all_(db_,
                    "SELECT key, value, version FROM kv WHERE key >= ?1 ORDER BY key ASC LIMIT ?3"),
      scan_fwd_range_(db_,
                      "SELECT key, value, version FROM kv WHERE key >= ?1 AND key < ?2 "
                      "ORDER BY key ASC LIMIT ?3"),
      scan_rev_all_(
          db_, "SELECT key, value, version FROM kv WHERE key >= ?1 ORDER BY key DESC LIMIT ?3"),
      scan_rev_range_(db_,
                      "SELECT key, value, version FROM kv WHERE key >= ?1 AND key < ?2 "
                      "ORDER BY key DESC LIMIT ?3") {}

int Store::get(std::string_view key, vsp_kv_sink_fn sink, void* ctx) {
  check_bytes(key.data(), key.size(), "get: key");
  Statement::Use use(get_);
  get_.bind_blob(1, key);
  if (!get_.step("reading a key from")) return VSP_E_NOT_FOUND;
  std::string_view value = get_.column_blob(0);
  vsp_kv kv{u8(key.data() ? key : std::string_view("")), key.size(), u8(value), value.size(),
            static_cast<uint64_t>(get_.column_int64(1))};
  sink(ctx, &kv);
  return VSP_OK;
}

int Store::scan(std::string_view start, std::string_view end, uint32_t limit, uint32_t flags,
                vsp_kv_sink_fn sink, void* ctx) {
  check_bytes(start.data(), start.size(), "scan: start");
  check_bytes(end.data(), end.size(), "scan: end");
  const bool reverse = (flags & VSP_SCAN_REVERSE) != 0;
  const bool bounded = !end.empty();
  Statement& st = reverse ? (bounded ? scan_rev_range_ : scan_rev_all_)
                          : (bounded ? scan_fwd_range_ : scan_fwd_all_);
  Statement::Use use(st);
  st.bind_blob(1, start);
  if (bounded) st.bind_blob(2, end);
  st.bind_int64(3, limit == 0 ? -1 : static_cast<int64_t>(limit));
  while (st.step("scanning")) {
    std::string_view k = st.column_blob(0);
    std::string_view v = st.column_blob(1);
    vsp_kv kv{u8(k), k.size(), u8(v), v.size(), static_cast<uint64_t>(st.column_int64(2))};
    if (sink(ctx, &kv) != 0) break;
  }
  return VSP_OK;
}

int Store::commit(const vsp_txn* txns, size_t count, vsp_txn_result* results) {
  validate_batch(txns, count, results);
  if (count == 0) return VSP_OK;
  // At FULL, SQLite syncs the WAL inside COMMIT, before it counts the new frames as committed:
  // a sync that fails fails the commit as a whole, as storage.h requires (applying the batch
  // and syncing after it could not take it back). The sync also covers the frames unsynced
  // commits wrote before.
  use_synchronous(syncs_commits_);
  if (apply_batch(txns, count, results) && syncs_commits_) sync_due_ = false;
  return VSP_OK;
}

int Store::commit_unsynced(const vsp_txn* txns, size_t count, vsp_txn_result* results) {
  validate_batch(txns, count, results);
  if (count == 0) return VSP_OK;
  use_synchronous(false);
  if (apply_batch(txns, count, results) && syncs_commits_) sync_due_ = true;
  return VSP_OK;
}

int Store::sync() {
  if (!sync_due_) return VSP_OK;
  // The WAL is where a commit's frames are (the database file is only written by a checkpoint,
  // which syncs the WAL first). SQLite hands out its own handle for it, so the sync goes
  // through its VFS as a synchronous=FULL commit's would (an fdatasync on Linux).
  sqlite3_file* wal = nullptr;
  int rc = sqlite3_file_control(db_.handle(), "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
  if (rc == SQLITE_OK && (wal == nullptr || wal->pMethods == nullptr)) rc = SQLITE_MISUSE;
  if (rc == SQLITE_OK) rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
  if (rc != SQLITE_OK) db_.fail(rc, "syncing the write-ahead log of");
  sync_due_ = false;
  return VSP_OK;
}

void Store::use_synchronous(bool full) {
  if (connection_full_ == full) return;
  db_.exec(full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
           "setting synchronous on");
  connection_full_ = full;
}

bool Store::apply_batch(const vsp_txn* txns, size_t count, vsp_txn_result* results) {
  // The whole batch is one SQLite transaction: one WAL append and one fsync however many
  // transactions it carries. A transaction's compares are all checked before any of its writes
  // run, so a failing compare has nothing to undo: it is skipped and the others go on.
  uint64_t rev = 0, first = 0;
  try {
    run(begin_, "starting a commit on");
    // Read the counter under the write lock rather than trusting the copy in memory: if
    // anything else ever writes this file (a second instance pointed at it by mistake, an
    // operator's tool), revisions still never repeat.
    rev = read_revision();
    first = rev;
    for (size_t i = 0; i < count; ++i) {
      results[i] = vsp_txn_result{};
      int64_t failed = first_failed_compare(txns[i]);
      if (failed >= 0) {
        results[i].status = VSP_E_CONFLICT;
        results[i].failed_compare = static_cast<uint32_t>(failed);
        continue;  // no revision for a transaction that did not apply
      }
      ++rev;
      apply_writes(txns[i], rev);
      results[i].status = VSP_OK;
      results[i].revision = rev;
    }
    if (rev != first) {
      Statement::Use use(set_revision_);
      set_revision_.bind_int64(1, to_sql(rev));
      set_revision_.step("recording the revision in");
    }
    run(commit_, "committing to");
  } catch (const vsp::Error& e) {
    rollback();
    // Nothing applied: make every result say so, in case a caller reads them anyway.
    for (size_t i = 0; i < count; ++i) results[i] = vsp_txn_result{e.status(), 0, 0};
    throw vsp::Error(e.status(), std::string(e.what()) + "; nothing of the batch was applied");
  } catch (...) {
    rollback();
    throw;
  }
  revision_ = rev;  // only after COMMIT succeeded; the stored counter is the one that counts
  return rev != first;
}

uint64_t Store::read_revision() {
  Statement::Use use(get_revision_);
  if (!get_revision_.step("reading the revision of")) {
    throw vsp::Error(VSP_E_IO,
                     "sqlite: \"" + db_.path() + "\" has no revision row; the file is damaged");
  }
  int64_t v = get_revision_.column_int64(0);
  if (v < 0) {
    throw vsp::Error(
        VSP_E_IO, "sqlite: \"" + db_.path() + "\" holds a negative revision; the file is damaged");
  }
  return static_cast<uint64_t>(v);
}

int64_t Store::first_failed_compare(const vsp_txn& txn) {
  for (size_t c = 0; c < txn.compare_count; ++c) {
    const vsp_compare& cmp = txn.compares[c];
    Statement::Use use(version_of_);
    version_of_.bind_blob(1, bytes(cmp.key, cmp.key_len));
    const bool present = version_of_.step("checking a compare on");
    bool holds = false;
    switch (cmp.op) {
      case VSP_CMP_ABSENT:
        holds = !present;
        break;
      case VSP_CMP_PRESENT:
        holds = present;
        break;
      case VSP_CMP_VERSION:
        holds = present && static_cast<uint64_t>(version_of_.column_int64(0)) == cmp.version;
        break;
    }
    if (!holds) return static_cast<int64_t>(c);
  }
  return -1;
}

void Store::apply_writes(const vsp_txn& txn, uint64_t revision) {
  // In order, so a later write to the same key wins.
  for (size_t w = 0; w < txn.write_count; ++w) {
    const vsp_write& wr = txn.writes[w];
    if (wr.op == VSP_WRITE_PUT) {
      Statement::Use use(put_);
      put_.bind_blob(1, bytes(wr.key, wr.key_len));
      put_.bind_blob(2, bytes(wr.value, wr.value_len));
      put_.bind_int64(3, to_sql(revision));
      put_.step("writing to");
    } else {
      Statement::Use use(delete_);
      delete_.bind_blob(1, bytes(wr.key, wr.key_len));
      delete_.step("deleting from");  // deleting an absent key changes nothing: not an error
    }
  }
}

void Store::run(Statement& st, std::string_view doing) {
  Statement::Use use(st);
  st.step(doing);
}

void Store::rollback() noexcept {
  // SQLite may already have rolled back by itself (it does on some SQLITE_FULL and I/O errors);
  // a ROLLBACK then would only fail.
  if (sqlite3_get_autocommit(db_.handle()) != 0) return;
  try {
    run(rollback_, "rolling back");
  } catch (...) {
    // Nothing better to do: the connection closes the transaction when it is next used or
    // closed, and the caller already gets the original error.
  }
}

}  // namespace vespid::sqlite
