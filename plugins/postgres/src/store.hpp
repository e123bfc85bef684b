// The storage ABI (vespid/storage.h) over the pool: get, scan and commit on the storage thread,
// each waiting for its round trips on the loop thread. It decides what happens when a
// connection goes: a read is retried once on a new connection; a commit is retried when the
// server certainly did not commit it, and when the answer to its COMMIT was lost it asks the
// commit log whether the batch committed before doing anything else (see README.md).
#pragma once

#include <vespid/storage.h>

#include <chrono>
#include <cstdint>
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

  int get(std::string_view key, vsp_kv_sink_fn sink, void* ctx);
  int scan(std::string_view start, std::string_view end, uint32_t limit, uint32_t flags,
           vsp_kv_sink_fn sink, void* ctx);
  int commit(const vsp_txn* txns, size_t count, vsp_txn_result* results);

 private:
  enum class Attempt { applied, retry };

  // Runs `req` on the lease, preceded by the session setup when the session is new. true when
  // every statement got a result (each may be an SQL error); false when the connection failed
  // (req.failure, req.message). Throws when the session setup itself fails.
  bool execute(Pool::Lease& lease, Request& req, Clock::time_point deadline);
  // A read: one statement, retried once on a new connection if the first one broke.
  template <class Consume>
  int read(const char* doing, Statement stmt, Consume consume);
  // One try at the batch; see commit() in store.cpp.
  Attempt attempt(Pool::Lease& lease, const CommitPlan& plan, int64_t token, bool& maybe_committed,
                  Clock::time_point deadline, vsp_txn_result* results, size_t count,
                  std::string& lost_because);
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
};

}  // namespace vespid::postgres
