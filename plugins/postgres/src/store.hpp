// The storage ABI (vespid/storage.h) over the pool: get, scan and commit on the storage thread,
// each waiting for its round trips on the loop thread. It decides what happens when a
// connection goes: a read is retried once on a new connection; a commit is retried when the
// server certainly did not commit it, and when the answer to its COMMIT was lost it asks the
// commit log whether the batch committed before doing anything else (see README.md).
#pragma once

#include <vespid/storage.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <vespid/plugin.hpp>

#include "commit_plan.hpp"
#include "pool.hpp"
#include "statements.hpp"
#include "target.hpp"

namespace vespid::postgres {

class Store {
 public:
  // Storage thread, like every member. `owner` identifies this instance in the commit log.
  Store(Pool& pool, const Sql& sql, const Target& target, vsp::Host host,
        std::chrono::milliseconds request_timeout, std::string owner);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int get(std::string_view key, vsp_kv_sink_fn sink, void* ctx);
  int scan(std::string_view start, std::string_view end, uint32_t limit, uint32_t flags,
           vsp_kv_sink_fn sink, void* ctx);
  int commit(const vsp_txn* txns, size_t count, vsp_txn_result* results);
  // ABI 1.4: the batch committed at synchronous_commit off (visible, and safe from a crash of
  // the gateway, at once; on disk within the server's wal_writer_delay), and the sync that
  // waits for the server's flush of everything committed so far (see README.md).
  int commit_unsynced(const vsp_txn* txns, size_t count, vsp_txn_result* results);
  int sync();

 private:
  enum class Attempt { applied, retry };

  int commit_batch(const vsp_txn* txns, size_t count, vsp_txn_result* results, bool unsynced);
  // A commit's second round trip, kept past the answer to COMMIT when its sync still runs.
  struct InFlight {
    Request req;
    std::string outcomes;  // borrowed by req's statements
    int64_t token = 0;
    std::optional<Pool::Lease> lease;
  };
  // Waits for the sync that an unsynced batch's round trip carries, if one is still running,
  // and notes whether it made the batch durable. Every call starts with it: the lease it holds
  // is the connection the next call may need.
  void settle_in_flight() noexcept;
  // Whether `lease` may not be the session the batch awaiting a sync was committed on: only a
  // session that lived through since then proves that the server did not restart meanwhile.
  bool needs_survival_check(const Pool::Lease& lease) const noexcept;
  // The batch awaiting a sync is gone from the server: the revision counter is moved past the
  // revisions this instance handed out, and the loss is logged and thrown (VSP_E_IO).
  [[noreturn]] void lost_unsynced(Pool::Lease& lease, Clock::time_point deadline);

  // Runs `req` on the lease, preceded by the session setup when the session is new. true when
  // every statement got a result (each may be an SQL error); false when the connection failed
  // (req.failure, req.message). Throws when the session setup itself fails.
  bool execute(Pool::Lease& lease, Request& req, Clock::time_point deadline);
  // A read: one statement, retried once on a new connection if the first one broke.
  template <class Consume>
  int read(const char* doing, Statement stmt, Consume consume);
  // One try at the batch; see commit() in store.cpp.
  Attempt attempt(Pool::Lease& lease, const CommitPlan& plan, int64_t token, bool unsynced,
                  bool& maybe_committed, Clock::time_point deadline, vsp_txn_result* results,
                  size_t count, std::string& lost_because);
  // A batch the server committed: the revisions it took, and whether it awaits a sync.
  void committed(const Pool::Lease& lease, int64_t token, bool unsynced,
                 const vsp_txn_result* results, size_t count) noexcept;
  void rollback(Pool::Lease& lease, Clock::time_point deadline) noexcept;
  std::string commit_error(size_t count, const std::string& why) const;

  Pool& pool_;
  const Sql& sql_;
  const Target& target_;
  const vsp::Host host_;
  const std::chrono::milliseconds request_timeout_;
  const std::string owner_;

  // Storage thread: per pool slot, the session whose statements are prepared.
  std::vector<uint64_t> prepared_;
  // Storage thread: the token of the last batch; each batch gets the next.
  int64_t last_token_ = 0;
  // Storage thread: an unsynced batch's round trip whose sync is still running, or null.
  std::unique_ptr<InFlight> in_flight_;
  // Storage thread: the last batch committed without a sync that no sync or synced commit has
  // covered yet (token 0: none), and the pool session it was committed on.
  int64_t unsynced_token_ = 0;
  size_t unsynced_slot_ = 0;
  uint64_t unsynced_session_ = 0;
  // Storage thread: the highest revision this instance was given, and the highest known
  // durable; between them are what a lost unsynced batch may have taken.
  uint64_t max_revision_ = 0;
  uint64_t durable_revision_ = 0;
};

}  // namespace vespid::postgres
