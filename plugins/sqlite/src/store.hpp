// The storage ABI (vespid/storage.h) over one open SQLite connection: get, scan and commit with
// prepared statements that are compiled once at open and reused for every call.
#pragma once

#include <vespid/storage.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config.hpp"
#include "db.hpp"
#include "schema.hpp"

namespace vespid::sqlite {

class Store {
 public:
  // Opens `path`, applies the connection pragmas and checks, upgrades or creates the schema.
  // Throws vsp::Error naming the path. `pragmas` and `schema` receive what the pragmas and the
  // schema check came to (for the log); either may be null.
  static std::unique_ptr<Store> open(const std::string& path, const Config& cfg,
                                     PragmaOutcome* pragmas, SchemaOutcome* schema = nullptr);

  // The storage table's operations; see storage.h. Failures throw vsp::Error.
  int get(std::string_view key, vsp_kv_sink_fn sink, void* ctx);
  int scan(std::string_view start, std::string_view end, uint32_t limit, uint32_t flags,
           vsp_kv_sink_fn sink, void* ctx);
  int commit(const vsp_txn* txns, size_t count, vsp_txn_result* results);
  // ABI 1.4: the batch applied with its WAL frames written but not synced, and the sync of
  // everything applied so (a no-op when nothing is waiting, and with the configured
  // synchronous=normal, whose commits are not synced either).
  int commit_unsynced(const vsp_txn* txns, size_t count, vsp_txn_result* results);
  int sync();

  // The last revision this connection committed or saw at open (0 for a new store). Commits
  // read the stored counter afresh; this copy is for logs.
  uint64_t revision() const noexcept { return revision_; }
  const std::string& path() const noexcept { return db_.path(); }

 private:
  Store(Db db, uint64_t revision, bool syncs_commits);

  // Sets the connection's synchronous level for the next commit (FULL: SQLite syncs the WAL in
  // COMMIT; NORMAL: it does not), when it differs. A PRAGMA does its work when it is prepared,
  // so it cannot be a reused statement; the switch is skipped while the level is right.
  void use_synchronous(bool full);
  // The batch as one SQLite transaction, at whatever synchronous level the connection has.
  // Returns whether it wrote anything (a batch of conflicts writes no WAL frame).
  bool apply_batch(const vsp_txn* txns, size_t count, vsp_txn_result* results);

  // Index of the first compare of `txn` that does not hold, or -1 when all hold.
  int64_t first_failed_compare(const vsp_txn& txn);
  void apply_writes(const vsp_txn& txn, uint64_t revision);
  // The last committed revision as stored in the meta table.
  uint64_t read_revision();
  void run(Statement& st, std::string_view doing);
  void rollback() noexcept;

  // Declared first so it is destroyed last: statements must be finalized before the close.
  Db db_;
  uint64_t revision_;
  const bool syncs_commits_;  // configured synchronous=full
  bool connection_full_;      // the connection's synchronous level is FULL now
  bool sync_due_ = false;     // a batch was applied unsynced since the WAL was last synced

  Statement get_;
  Statement version_of_;
  Statement put_;
  Statement delete_;
  Statement get_revision_;
  Statement set_revision_;
  Statement begin_;
  Statement commit_;
  Statement rollback_;
  // One statement per scan shape, so the hot path never re-prepares: [reverse][bounded].
  Statement scan_fwd_all_;
  Statement scan_fwd_range_;
  Statement scan_rev_all_;
  Statement scan_rev_range_;
};

}  // namespace vespid::sqlite
