// How queued commits reach the backend. Commits that queued up while the storage thread was busy
// go as one batch: one durable transaction, one fsync, for many writers. The backend fails or
// applies a batch as a whole (storage.h), so one transaction it cannot take (a value too big
// for it, one that does not fit under sqlite's max_size_mb) used to fail every other writer's
// transaction with it. When a batch fails, its transactions are now tried again one at a time,
// in order, and only those that fail on their own fail.
//
// With a backend that can defer its sync (ABI 1.4's commit_unsynced and sync), a round that
// carries Applied commits is applied without a sync, those commits' writers hear back at once,
// and one sync then covers the round's Synced commits and the writers waiting on durability.
// A dispatch's record goes this way: its `execute` is on the wire while the disk syncs.
#include <algorithm>

#include "runtime/gateway_metrics.hpp"
#include "runtime/logging.hpp"
#include "storage/storage_service.hpp"

namespace vespid::core {
namespace {

const uint8_t* bytes(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

vsp_error fresh_error() {
  vsp_error e{};
  e.struct_size = sizeof e;
  return e;
}

// Two transactions in a row that fail on their own mean the store fails, not one transaction
// (a full disk, an I/O error, a write lock held elsewhere): the rest of the batch then fails with
// the batch's error instead of each paying for an attempt that cannot succeed (waiting out the
// sqlite busy_timeout_ms each, say).
constexpr int kFailuresThatBlameTheStore = 2;

}  // namespace

StorageService::CallResult StorageService::commit_call(StorageOp* const* ops, size_t count,
                                                       bool unsynced) {
  // Flatten every transaction's compares and writes into two arrays the C ABI can point at,
  // sized first so that the pointers taken into them stay put: four allocations per batch, not
  // two or more per transaction.
  size_t total_compares = 0, total_writes = 0;
  for (size_t i = 0; i < count; ++i) {
    total_compares += ops[i]->txn.compares.size();
    total_writes += ops[i]->txn.writes.size();
  }
  std::vector<vsp_compare> compares;
  std::vector<vsp_write> writes;
  compares.reserve(total_compares);
  writes.reserve(total_writes);
  std::vector<vsp_txn> txns(count);
  std::vector<vsp_txn_result> results(count);
  for (size_t i = 0; i < count; ++i) {
    const Txn& t = ops[i]->txn;
    const size_t first_compare = compares.size(), first_write = writes.size();
    for (const auto& c : t.compares)
      compares.push_back({c.op, bytes(c.key), c.key.size(), c.version});
    for (const auto& w : t.writes) {
      writes.push_back({w.op, bytes(w.key), w.key.size(), bytes(w.value), w.value.size()});
    }
    txns[i] = {compares.data() + first_compare, t.compares.size(), writes.data() + first_write,
               t.writes.size()};
  }
  vsp_error err = fresh_error();
  auto& m = metrics::instruments();
  const auto started = std::chrono::steady_clock::now();
  int rc = (unsynced ? vtbl_.commit_unsynced : vtbl_.commit)(instance_, txns.data(), txns.size(),
                                                             results.data(), &err);
  m.storage_commit_duration.observe(std::chrono::steady_clock::now() - started);
  m.storage_batch_size.observe(static_cast<double>(count));
  batches_++;
  if (rc != VSP_OK) {
    m.storage_commit_failures.inc();
    return {rc, err.message};
  }
  m.storage_commits.inc();
  bool any_applied = false;
  for (size_t i = 0; i < count; ++i) {
    auto& out = ops[i]->outcome;
    out.applied = results[i].status == VSP_OK;
    out.failed_compare = results[i].failed_compare;
    out.revision = results[i].revision;
    m.storage_transactions[out.applied                           ? metrics::TxnResult::Applied
                           : results[i].status == VSP_E_CONFLICT ? metrics::TxnResult::Conflict
                                                                 : metrics::TxnResult::Failed]
        .inc();
    if (out.applied) {
      any_applied = true;
      commits_++;
      uint64_t prev = last_revision_.load();
      while (out.revision > prev && !last_revision_.compare_exchange_weak(prev, out.revision)) {
      }
    } else if (results[i].status != VSP_E_CONFLICT) {
      fail(ops[i], results[i].status, "storage rejected the transaction");
    }
  }
  // A synced commit that wrote something made every write before it durable too (storage.h);
  // without deferred syncs nothing is ever applied unsynced, so any successful commit will do.
  if (!unsynced && (any_applied || !defers_syncs_)) synced_revision_ = last_revision_.load();
  return {};
}

void StorageService::run_group(std::vector<StorageOp*>& group, std::vector<StorageOp*>& done) {
  std::vector<StorageOp*> commits;
  commits.reserve(group.size());
  bool any_applied = false;
  for (StorageOp* op : group) {
    if (op->kind != StorageOp::Kind::Commit) continue;
    commits.push_back(op);
    any_applied = any_applied || op->durability == Durability::Applied;
  }
  const bool unsynced = defers_syncs_ && any_applied;
  if (!commits.empty()) run_commits(commits, unsynced);

  // Who still waits for a sync: with every commit synced, only the waits this round's commits
  // did not cover (none of them wrote anything); otherwise everyone but the Applied commits.
  std::vector<StorageOp*> waiting;
  for (StorageOp* op : group) {
    const bool applied_commit =
        op->kind == StorageOp::Kind::Commit && op->durability == Durability::Applied;
    const bool uncovered_wait =
        op->kind == StorageOp::Kind::SyncThrough && op->through > synced_revision_.load();
    const bool waits = unsynced ? !applied_commit : uncovered_wait;
    if (!waits) settle_wait(op);  // a wait covered by an earlier sync, unless that one failed
    (waits ? waiting : done).push_back(op);
  }
  if (unsynced) {
    // The Applied writers go on while the disk syncs. The sync runs even when nobody in this
    // round waits for it: each of them will (durable_through), and finds it done or under way.
    deliver_done(done);
  } else if (waiting.empty()) {
    return;
  }
  sync_for(waiting);
  for (StorageOp* op : waiting) settle_wait(op);
  done.insert(done.end(), waiting.begin(), waiting.end());
}

void StorageService::settle_wait(StorageOp* op) const {
  if (op->kind != StorageOp::Kind::SyncThrough || op->status != VSP_OK) return;
  if (op->through <= unsure_through_.load()) {
    for (const UnsureRange& r : unsure_) {
      if (op->through > r.after && op->through <= r.through) {
        fail(op, r.status, "the store could not make the write durable: " + r.message);
        return;
      }
    }
  }
}

void StorageService::sync_for(const std::vector<StorageOp*>& waiting) {
  if (!defers_syncs_) return;  // every commit was synced: nothing can be waiting
  const uint64_t target = last_revision_.load();
  vsp_error err = fresh_error();
  auto& m = metrics::instruments();
  const auto started = std::chrono::steady_clock::now();
  const int rc = vtbl_.sync(instance_, &err);
  m.storage_sync_duration.observe(std::chrono::steady_clock::now() - started);
  if (rc == VSP_OK) {
    synced_revision_ = std::max(synced_revision_.load(), target);
    return;
  }
  m.storage_sync_failures.inc();
  const uint64_t after = synced_revision_.load();
  log::get("storage")->error(
      "the store could not sync its last writes ({}); they stay applied but are never reported "
      "durable: the writers of revisions {} to {} are told, now or when they ask, and later "
      "writes sync again",
      err.message, after + 1, target);
  for (StorageOp* op : waiting) {
    if (op->status == VSP_OK) {
      fail(op, rc, std::string("the store could not make the write durable: ") + err.message);
    }
  }
  if (target > after) {
    if (!unsure_.empty() && unsure_.back().after == after) {
      unsure_.back() = {after, target, rc, err.message};  // the same writes and more
    } else {
      unsure_.push_back({after, target, rc, err.message});
      if (unsure_.size() > kMaxUnsureRanges) unsure_.pop_front();
    }
    unsure_through_ = std::max(unsure_through_.load(), target);
  }
}

void StorageService::run_commits(std::vector<StorageOp*>& group, bool unsynced) {
  CallResult batch = commit_call(group.data(), group.size(), unsynced);
  if (batch.status == VSP_OK) return;
  // Alone, the transaction is the one to blame; a closed backend takes nothing at all.
  if (group.size() == 1 || batch.status == VSP_E_CLOSED) {
    log::get("storage")->error("commit of a batch of {} failed: {}", group.size(), batch.error);
    for (auto* op : group) fail(op, batch.status, batch.error);
    return;
  }
  isolate_failure(group, batch, unsynced);
}

void StorageService::isolate_failure(std::vector<StorageOp*>& group, const CallResult& batch,
                                     bool unsynced) {
  // Nothing of the failed batch was applied and it consumed no revision (storage.h), so each
  // transaction tried again gets the next revision as if the batch had never been: revisions
  // keep increasing in submission order and none is handed out twice. A full disk is treated
  // like any other failure: under max_size_mb the transaction that does not fit fails alone,
  // and small writes and the deletes that make room go through; a disk that is really full
  // fails the first two on their own, and then the rest with the batch's error.
  auto log = log::get("storage");
  log->warn(
      "commit of a batch of {} failed: {}; trying its transactions one at a time so that "
      "only the one to blame fails",
      group.size(), batch.error);
  int failures_in_a_row = 0;
  size_t failed = 0;
  for (StorageOp* op : group) {
    if (failures_in_a_row >= kFailuresThatBlameTheStore) {
      fail(op, batch.status,
           batch.error +
               " (not tried on its own: the transactions before it failed on their "
               "own too)");
      ++failed;
      continue;
    }
    CallResult alone = commit_call(&op, 1, unsynced);
    if (alone.status == VSP_OK) {
      failures_in_a_row = 0;
      continue;
    }
    ++failures_in_a_row;
    ++failed;
    log->error("a transaction of the failed batch failed on its own too: {}", alone.error);
    fail(op, alone.status, alone.error);
  }
  log->warn("batch of {} retried one at a time: {} committed, {} failed", group.size(),
            group.size() - failed, failed);
}

}  // namespace vespid::core
