// How queued commits reach the backend. Commits that queued up while the storage thread was busy
// go as one batch: one durable transaction, one fsync, for many writers. The backend fails or
// applies a batch as a whole (storage.h), so one transaction it cannot take (a value too big
// for it, one that does not fit under sqlite's max_size_mb) used to fail every other writer's
// transaction with it. When a batch fails, its transactions are now tried again one at a time,
// in order, and only those that fail on their own fail.
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

StorageService::CallResult StorageService::commit_call(StorageOp* const* ops, size_t count) {
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
  int rc = vtbl_.commit(instance_, txns.data(), txns.size(), results.data(), &err);
  m.storage_commit_duration.observe(std::chrono::steady_clock::now() - started);
  m.storage_batch_size.observe(static_cast<double>(count));
  batches_++;
  if (rc != VSP_OK) {
    m.storage_commit_failures.inc();
    return {rc, err.message};
  }
  m.storage_commits.inc();
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
      commits_++;
      uint64_t prev = last_revision_.load();
      while (out.revision > prev && !last_revision_.compare_exchange_weak(prev, out.revision)) {
      }
    } else if (results[i].status != VSP_E_CONFLICT) {
      fail(ops[i], results[i].status, "storage rejected the transaction");
    }
  }
  return {};
}

void StorageService::run_commits(std::vector<StorageOp*>& group) {
  CallResult batch = commit_call(group.data(), group.size());
  if (batch.status == VSP_OK) return;
  // Alone, the transaction is the one to blame; a closed backend takes nothing at all.
  if (group.size() == 1 || batch.status == VSP_E_CLOSED) {
    log::get("storage")->error("commit of a batch of {} failed: {}", group.size(), batch.error);
    for (auto* op : group) fail(op, batch.status, batch.error);
    return;
  }
  isolate_failure(group, batch);
}

void StorageService::isolate_failure(std::vector<StorageOp*>& group, const CallResult& batch) {
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
    CallResult alone = commit_call(&op, 1);
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
