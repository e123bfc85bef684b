#include "store.hpp"

#include <algorithm>
#include <iterator>
#include <thread>

namespace vespid::postgres {
namespace {

using namespace std::chrono_literals;

// Tries at a batch whose every failed try certainly committed nothing (a connection that broke
// before COMMIT was sent): a server that kills every session should not keep the caller
// looping until request_timeout_ms.
constexpr int kMaxPlainTries = 3;

const uint8_t* u8(std::string_view s) {
  static constexpr uint8_t kEmpty[1] = {0};
  return s.data() != nullptr ? reinterpret_cast<const uint8_t*>(s.data()) : kEmpty;
}

// An inner error's message without its "postgres: ", for quoting inside another.
std::string without_prefix(std::string_view message) {
  constexpr std::string_view kPrefix = "postgres: ";
  if (message.substr(0, kPrefix.size()) == kPrefix) message.remove_prefix(kPrefix.size());
  return std::string(message);
}

void fail_all(vsp_txn_result* results, size_t count, int status) {
  for (size_t i = 0; i < count; ++i) results[i] = vsp_txn_result{status, 0, 0};
}

}  // namespace

Store::Store(Pool& pool, const Sql& sql, const Target& target, vsp::Host host,
             std::chrono::milliseconds request_timeout, std::string owner)
    : pool_(pool),
      sql_(sql),
      target_(target),
      host_(host),
      request_timeout_(request_timeout),
      owner_(std::move(owner)),
      prepared_(pool.size(), 0) {}

Store::~Store() {
  settle_in_flight();  // its lease must not go while the request still runs
}

bool Store::execute(Pool::Lease& lease, Request& req, Clock::time_point deadline) {
  const size_t slot = lease.slot();
  const bool setup = prepared_[slot] != lease.session();
  size_t n = 0;
  if (setup) {
    // Three quarters of the call's budget: a commit stuck behind another gateway's lock then
    // fails with the server's own "lock timeout" error, on a session that stays usable, before
    // the call's deadline would cut the connection.
    auto pre = sql_.session_setup(request_timeout_ * 3 / 4);
    n = pre.size();
    req.statements.insert(req.statements.begin(), std::make_move_iterator(pre.begin()),
                          std::make_move_iterator(pre.end()));
  }
  pool_.run(lease, req, deadline);
  if (!setup) return req.failure == Failure::none;

  // Take the setup back out, so the caller's indexes hold whatever happened.
  const PGresult* bad = nullptr;
  if (req.failure == Failure::none) {
    for (size_t i = 0; i < n && bad == nullptr; ++i) {
      if (!succeeded(req.results[i].get())) bad = req.results[i].get();
    }
  }
  std::string why = bad != nullptr ? describe(bad) : "";
  const int status = bad != nullptr ? status_for_sqlstate(sqlstate(bad)) : VSP_OK;
  req.statements.erase(req.statements.begin(), req.statements.begin() + static_cast<long>(n));
  req.results.erase(req.results.begin(),
                    req.results.begin() + static_cast<long>(std::min(n, req.results.size())));
  if (req.failure != Failure::none) return false;
  if (bad != nullptr) {
    // Some statements may be prepared and others not; only a new session is a known state.
    pool_.discard(lease);
    throw vsp::Error(status, "postgres: preparing the plugin's statements on " + target_.label +
                                 " for schema \"" + sql_.schema() + "\" failed: " + why);
  }
  prepared_[slot] = lease.session();
  return true;
}

template <class Consume>
int Store::read(const char* doing, Statement stmt, Consume consume) {
  settle_in_flight();
  const auto deadline = Clock::now() + request_timeout_;
  for (int tries = 1;; ++tries) {
    Pool::Lease lease = pool_.acquire(deadline);
    Request req;
    req.statements.push_back(std::move(stmt));
    if (!execute(lease, req, deadline)) {
      if (tries == 1 && req.failure == Failure::lost) {
        // Most likely the server restarted since this connection was last used. Reads have
        // no effects, so asking again on a new connection is always safe.
        host_.info(std::string("postgres: ") + doing + ": the connection to " + target_.label +
                   " broke (" + req.message + "); trying again on a new one");
        stmt = std::move(req.statements.front());  // its parameters borrow: still valid
        continue;
      }
      throw vsp::Error(
          req.failure == Failure::closed ? VSP_E_CLOSED : VSP_E_IO,
          std::string("postgres: ") + doing + " on " + target_.label + " failed: " + req.message);
    }
    const PGresult* r = req.results[0].get();
    if (!succeeded(r)) {
      throw vsp::Error(status_for_sqlstate(sqlstate(r)),
                       std::string("postgres: ") + doing + " in schema \"" + sql_.schema() +
                           "\" on " + target_.label + " failed: " + describe(r));
    }
    return consume(r);
  }
}

int Store::get(std::string_view key, vsp_kv_sink_fn sink, void* ctx) {
  if (key.data() == nullptr && !key.empty()) {
    throw vsp::Error(VSP_E_INVALID, "postgres: get: key is NULL with a non-zero length");
  }
  Params p;
  p.borrow(key);
  return read("reading a key", Statement::prepared(kGet, std::move(p)), [&](const PGresult* r) {
    if (PQntuples(r) == 0) return VSP_E_NOT_FOUND;
    const std::string_view value = field(r, 0, 0);
    vsp_kv kv{u8(key), key.size(), u8(value), value.size(),
              static_cast<uint64_t>(int_field(r, 0, 1))};
    sink(ctx, &kv);
    return VSP_OK;
  });
}

int Store::scan(std::string_view start, std::string_view end, uint32_t limit, uint32_t flags,
                vsp_kv_sink_fn sink, void* ctx) {
  if ((start.data() == nullptr && !start.empty()) || (end.data() == nullptr && !end.empty())) {
    throw vsp::Error(VSP_E_INVALID, "postgres: scan: a bound is NULL with a non-zero length");
  }
  const bool reverse = (flags & VSP_SCAN_REVERSE) != 0;
  const bool bounded = !end.empty();
  const char* name =
      reverse ? (bounded ? kScanRevRange : kScanRevAll) : (bounded ? kScanFwdRange : kScanFwdAll);
  Params p;
  p.borrow(start);
  if (bounded) p.borrow(end);
  if (limit == 0) {
    p.null();  // LIMIT NULL: all of them
  } else {
    p.int8(limit);
  }
  return read("scanning", Statement::prepared(name, std::move(p)), [&](const PGresult* r) {
    const int rows = PQntuples(r);
    for (int row = 0; row < rows; ++row) {
      const std::string_view k = field(r, row, 0);
      const std::string_view v = field(r, row, 1);
      vsp_kv kv{u8(k), k.size(), u8(v), v.size(), static_cast<uint64_t>(int_field(r, row, 2))};
      if (sink(ctx, &kv) != 0) break;
    }
    return VSP_OK;
  });
}

std::string Store::commit_error(size_t count, const std::string& why) const {
  return "postgres: committing a batch of " + std::to_string(count) +
         " transaction(s) to schema \"" + sql_.schema() + "\" on " + target_.label +
         " failed: " + why;
}

void Store::rollback(Pool::Lease& lease, Clock::time_point deadline) noexcept {
  try {
    Request req;
    req.statements.push_back(Statement::sql("ROLLBACK"));
    pool_.run(lease, req, deadline);
  } catch (...) {
    // The server rolls back on its own when the session ends; the caller reports the cause.
  }
}

// A batch is two round trips on one connection:
//   1. BEGIN; lock the revision row; [look the batch up in the commit log]; one statement per
//      transaction, which checks its compares and applies its writes only if they all hold.
//   2. record the outcomes in the commit log; COMMIT.
// Losing the connection during 1 commits nothing (COMMIT was never sent): try again. Losing it
// during 2 leaves the outcome unknown (`maybe_committed`): the next try looks the batch up in
// the log first, under the revision lock, so a COMMIT that was still on its way has landed or
// is gone by then.
//
// A batch committed without a sync (`unsynced`) sets synchronous_commit off for its own
// transaction only. While such a batch awaits its sync, a batch on a session that may be new
// first checks, in its first round trip, that the earlier batch is still in the commit log.
Store::Attempt Store::attempt(Pool::Lease& lease, const CommitPlan& plan, int64_t token,
                              bool unsynced, bool& maybe_committed, Clock::time_point deadline,
                              vsp_txn_result* results, size_t count, std::string& lost_because) {
  Request rt1;
  rt1.statements.push_back(Statement::sql("BEGIN"));
  if (unsynced) rt1.statements.push_back(Statement::sql("SET LOCAL synchronous_commit = off"));
  rt1.statements.push_back(Statement::prepared(kLock, Params()));
  const size_t check_at = rt1.statements.size();
  if (maybe_committed) {
    Params p;
    p.borrow(owner_);
    p.int8(token);
    rt1.statements.push_back(Statement::prepared(kCheck, std::move(p)));
  }
  const size_t survival_at = rt1.statements.size();
  const bool check_survival = needs_survival_check(lease);
  if (check_survival) {
    Params p;
    p.borrow(owner_);
    p.int8(unsynced_token_);
    rt1.statements.push_back(Statement::prepared(kSurvived, std::move(p)));
  }
  const size_t first_txn = rt1.statements.size();
  for (size_t i = 0; i < plan.size(); ++i) {
    rt1.statements.push_back(Statement::prepared(kTxn, plan.params(i)));
  }
  if (!execute(lease, rt1, deadline)) {
    lost_because = rt1.message;
    return Attempt::retry;
  }
  if (maybe_committed && succeeded(rt1.results[check_at].get())) {
    const PGresult* found = rt1.results[check_at].get();
    if (PQntuples(found) > 0) {
      rollback(lease, deadline);
      if (!decode_outcomes(field(found, 0, 0), results, count)) {
        throw vsp::Error(VSP_E_INTERNAL,
                         commit_error(count, "the commit log's entry is malformed"));
      }
      // Why the connection broke was logged when it happened (the "trying again" line).
      host_.warn("postgres: the answer to a COMMIT sent to " + target_.label +
                 " was lost with its connection; the commit log shows that the batch was "
                 "committed, so it is reported applied");
      committed(lease, token, unsynced, results, count);
      return Attempt::applied;
    }
    // Looked up under the revision lock and not there: that COMMIT never happened.
    maybe_committed = false;
  }
  if (check_survival && succeeded(rt1.results[survival_at].get())) {
    if (PQntuples(rt1.results[survival_at].get()) == 0) {
      rollback(lease, deadline);
      lost_unsynced(lease, deadline);
    }
    unsynced_slot_ = lease.slot();  // this session saw it: no need to look again on it
    unsynced_session_ = lease.session();
  }
  if (const int bad = rt1.first_error(); bad >= 0) {
    const PGresult* r = rt1.results[static_cast<size_t>(bad)].get();
    rollback(lease, deadline);
    throw vsp::Error(status_for_sqlstate(sqlstate(r)), commit_error(count, describe(r)));
  }
  for (size_t i = 0; i < count; ++i) {
    const PGresult* r = rt1.results[first_txn + i].get();
    results[i] = vsp_txn_result{};
    if (!is_null(r, 0, 0)) {
      results[i].status = VSP_E_CONFLICT;
      results[i].failed_compare = static_cast<uint32_t>(int_field(r, 0, 0));
    } else {
      results[i].status = VSP_OK;
      results[i].revision = static_cast<uint64_t>(int_field(r, 0, 1));
    }
  }

  // Round trip 2: the log and COMMIT; for an unsynced batch also the sync, whose flush the
  // caller does not wait for: the answer to COMMIT comes back first (early_results), and the
  // rest is collected by the next call (settle_in_flight), normally the host's sync.
  auto rt2 = std::make_unique<InFlight>();
  rt2->outcomes = encode_outcomes(results, count);
  rt2->token = token;
  Params p;
  p.borrow(owner_);
  p.int8(token);
  p.borrow(rt2->outcomes);
  rt2->req.statements.push_back(Statement::prepared(kLog, std::move(p)));
  rt2->req.statements.push_back(Statement::sql("COMMIT"));
  if (unsynced) {
    Params s;
    s.borrow(owner_);
    s.int8(token);
    rt2->req.statements.push_back(Statement::prepared(kSync, std::move(s)));
    rt2->req.early_results = 2;
  }
  // Run on the session round trip 1 prepared, so no setup goes in front of it (an early wake
  // must find the results where the statements are).
  const Pool::Ran ran = pool_.run(lease, rt2->req, deadline);
  Request& req = rt2->req;
  auto finish = [&] {
    if (ran == Pool::Ran::early) pool_.finish_run(lease);
  };
  if (ran == Pool::Ran::ended && req.failure != Failure::none) {
    maybe_committed = true;
    lost_because = req.message;
    return Attempt::retry;
  }
  for (size_t i = 0; i < 2; ++i) {
    if (succeeded(req.results[i].get())) continue;
    // The transaction was aborted: the server applied none of it.
    finish();
    const std::string why = req.results[i] ? describe(req.results[i].get()) : "no answer";
    const int status =
        req.results[i] ? status_for_sqlstate(sqlstate(req.results[i].get())) : VSP_E_IO;
    rollback(lease, deadline);
    throw vsp::Error(status, commit_error(count, why));
  }
  // A COMMIT of a transaction that had failed answers "ROLLBACK" rather than an error.
  if (std::string_view(PQcmdStatus(req.results[1].get())) != "COMMIT") {
    const std::string answer = PQcmdStatus(req.results[1].get());
    finish();
    throw vsp::Error(VSP_E_IO, commit_error(count, "the server answered COMMIT with " + answer));
  }
  committed(lease, token, unsynced, results, count);
  if (unsynced) {
    rt2->lease.emplace(std::move(lease));
    in_flight_ = std::move(rt2);
    if (ran == Pool::Ran::ended) settle_in_flight();  // the sync's answer came with it
  }
  return Attempt::applied;
}

void Store::settle_in_flight() noexcept {
  if (!in_flight_) return;
  const std::unique_ptr<InFlight> f = std::move(in_flight_);
  pool_.finish_run(*f->lease);
  const Request& req = f->req;
  const PGresult* r = req.results.size() > 2 ? req.results[2].get() : nullptr;
  if (req.failure == Failure::none && succeeded(r) &&
      std::string_view(PQcmdTuples(const_cast<PGresult*>(r))) == "1" &&
      unsynced_token_ == f->token) {
    unsynced_token_ = 0;
    durable_revision_ = max_revision_;
  }
  // Otherwise the batch stays unsynced: the next sync asks again, on a new session if this
  // one broke, and finds it there or lost.
}

void Store::committed(const Pool::Lease& lease, int64_t token, bool unsynced,
                      const vsp_txn_result* results, size_t count) noexcept {
  for (size_t i = 0; i < count; ++i) {
    if (results[i].status == VSP_OK) max_revision_ = std::max(max_revision_, results[i].revision);
  }
  if (unsynced) {
    unsynced_token_ = token;
    unsynced_slot_ = lease.slot();
    unsynced_session_ = lease.session();
  } else {
    // Its flush covered everything committed before it, the unsynced batches included (they
    // were checked to be there first, when the session might not have lived through).
    unsynced_token_ = 0;
    durable_revision_ = max_revision_;
  }
}

bool Store::needs_survival_check(const Pool::Lease& lease) const noexcept {
  return unsynced_token_ != 0 &&
         (lease.slot() != unsynced_slot_ || lease.session() != unsynced_session_);
}

void Store::lost_unsynced(Pool::Lease& lease, Clock::time_point deadline) {
  const uint64_t first = durable_revision_ + 1, last = max_revision_;
  unsynced_token_ = 0;
  durable_revision_ = max_revision_;  // reported once; what comes after syncs as usual
  std::string why = "the server at " + target_.label +
                    " no longer has the batches this gateway committed without a sync since "
                    "its last sync (revisions " +
                    std::to_string(first) + " to " + std::to_string(last) +
                    " at most): it restarted before flushing them (a crash, or a failover to a "
                    "standby that had not received them), so they are lost";
  Request req;
  Params p;
  p.int8(static_cast<int64_t>(last));
  req.statements.push_back(Statement::prepared(kSkipLost, std::move(p)));
  try {
    if (execute(lease, req, deadline) && req.first_error() < 0) {
      why += "; the revision counter goes on after " + std::to_string(last);
    } else {
      why += "; moving the revision counter past them failed (" +
             (req.failure != Failure::none ? req.message : describe(req.results[0].get())) +
             "), so their revisions may be given out again";
    }
  } catch (const vsp::Error& e) {
    why += std::string("; moving the revision counter past them failed (") + e.what() + ")";
  }
  host_.error("postgres: " + why);
  throw vsp::Error(VSP_E_IO, "postgres: " + why);
}

int Store::sync() {
  settle_in_flight();
  if (unsynced_token_ == 0) return VSP_OK;
  const auto deadline = Clock::now() + request_timeout_;
  for (int tries = 1;; ++tries) {
    Pool::Lease lease = pool_.acquire(deadline);
    Request req;
    Params p;
    p.borrow(owner_);
    p.int8(unsynced_token_);
    req.statements.push_back(Statement::prepared(kSync, std::move(p)));
    if (!execute(lease, req, deadline)) {
      if (tries == 1 && req.failure == Failure::lost) {
        // Safe to ask again on a new session: the sync finds its batch in the commit log or
        // reports it lost, whichever server answers.
        host_.info("postgres: sync: the connection to " + target_.label + " broke (" + req.message +
                   "); trying again on a new one");
        continue;
      }
      throw vsp::Error(req.failure == Failure::closed ? VSP_E_CLOSED : VSP_E_IO,
                       "postgres: syncing the batches committed without a sync to " +
                           target_.label + " failed: " + req.message);
    }
    const PGresult* r = req.results[0].get();
    if (!succeeded(r)) {
      throw vsp::Error(status_for_sqlstate(sqlstate(r)),
                       "postgres: syncing the batches committed without a sync to schema \"" +
                           sql_.schema() + "\" on " + target_.label + " failed: " + describe(r));
    }
    if (std::string_view(PQcmdTuples(const_cast<PGresult*>(r))) != "1")
      lost_unsynced(lease, deadline);
    unsynced_token_ = 0;
    durable_revision_ = max_revision_;
    return VSP_OK;
  }
}

int Store::commit(const vsp_txn* txns, size_t count, vsp_txn_result* results) {
  return commit_batch(txns, count, results, false);
}

int Store::commit_unsynced(const vsp_txn* txns, size_t count, vsp_txn_result* results) {
  return commit_batch(txns, count, results, true);
}

int Store::commit_batch(const vsp_txn* txns, size_t count, vsp_txn_result* results, bool unsynced) {
  validate_batch(txns, count, results);
  settle_in_flight();
  if (count == 0) return VSP_OK;
  const CommitPlan plan(txns, count);
  const int64_t token = ++last_token_;
  const auto deadline = Clock::now() + request_timeout_;
  bool maybe_committed = false;
  std::string broke;  // why the last try's connection failed
  std::string cut;    // why the connection failed after COMMIT was sent, while that is unsettled
  auto pause = 50ms;
  for (int tries = 1;; ++tries) {
    try {
      Pool::Lease lease = pool_.acquire(deadline);
      if (attempt(lease, plan, token, unsynced, maybe_committed, deadline, results, count, broke) ==
          Attempt::applied) {
        return VSP_OK;
      }
      if (maybe_committed && cut.empty()) cut = broke;
    } catch (const vsp::Error& e) {
      if (!maybe_committed) {
        fail_all(results, count, e.status());
        throw vsp::Error(e.status(), std::string(e.what()) + "; nothing of the batch was applied");
      }
      // The server cannot be asked yet (down, restarting): keep asking until the deadline.
      broke = without_prefix(e.what());
    }
    const bool out_of_time = Clock::now() + pause >= deadline;
    if (out_of_time || (!maybe_committed && tries >= kMaxPlainTries)) {
      fail_all(results, count, VSP_E_IO);
      if (maybe_committed) {
        // The one outcome the ABI has no status for. Said first, so it survives truncation.
        throw vsp::Error(VSP_E_IO, "postgres: a batch of " + std::to_string(count) +
                                       " transaction(s) may or may not have been applied: the "
                                       "connection to " +
                                       target_.label + " broke after COMMIT was sent (" + cut +
                                       ") and the server could not be asked within "
                                       "request_timeout_ms whether it committed (" +
                                       broke + ")");
      }
      throw vsp::Error(VSP_E_IO, commit_error(count, broke) + "; nothing of the batch was applied");
    }
    if (maybe_committed || tries > 1) {
      std::this_thread::sleep_for(pause);
      pause = std::min<std::chrono::milliseconds>(pause * 2, 1000ms);
    }
    host_.info("postgres: a batch of " + std::to_string(count) +
               " transaction(s): the connection to " + target_.label + " broke (" + broke +
               "); trying again");
  }
}

}  // namespace vespid::postgres
