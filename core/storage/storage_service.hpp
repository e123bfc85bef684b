// The storage thread. The core never touches a storage plugin directly: it queues operations
// here, a dedicated thread runs them against the backend (which may block on disk), and
// completions come back into the core through `deliver`.
//
// Commits that queue up while the thread is busy go to the backend as one batch: one durable
// transaction (one fsync) for many writers, each still atomic and independent. A commit is
// acknowledged only after the backend said the batch is durable. A batch the backend fails as a
// whole is tried again one transaction at a time, so that only the one to blame fails
// (storage_commits.cpp).
#pragma once

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "vespid/storage.h"

namespace vespid::core {

struct KV {
  std::string key;
  std::string value;
  uint64_t version = 0;
};

struct Compare {
  uint32_t op = VSP_CMP_ABSENT;
  std::string key;
  uint64_t version = 0;
  static Compare absent(std::string k) { return {VSP_CMP_ABSENT, std::move(k), 0}; }
  static Compare present(std::string k) { return {VSP_CMP_PRESENT, std::move(k), 0}; }
  static Compare version_is(std::string k, uint64_t v) {
    return {VSP_CMP_VERSION, std::move(k), v};
  }
};

struct Write {
  uint32_t op = VSP_WRITE_PUT;
  std::string key;
  std::string value;
  static Write put(std::string k, std::string v) {
    return {VSP_WRITE_PUT, std::move(k), std::move(v)};
  }
  static Write del(std::string k) { return {VSP_WRITE_DELETE, std::move(k), {}}; }
};

struct Txn {
  std::vector<Compare> compares;
  std::vector<Write> writes;
};

struct TxnOutcome {
  bool applied = false;
  uint32_t failed_compare = 0;  // when !applied
  uint64_t revision = 0;        // when applied
};

// When a commit's writer hears back. Synced: once the commit is durable, surviving a crash of
// the machine as far as the backend's settings promise (storage.h). Applied: once it is visible
// to every later operation and would survive a crash of the process, with its sync still to
// come; the writer acts on it at once and waits for the sync with durable_through() before it
// tells anyone outside. A backend without ABI 1.4's commit_unsynced treats both as Synced.
enum class Durability { Synced, Applied };

// A storage operation failed as a whole (I/O error, disk full, queue full, backend gone).
class StorageError : public std::runtime_error {
 public:
  StorageError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

// One queued operation. Owned by whoever submitted it (an awaiter's coroutine frame) until
// on_done runs.
struct StorageOp {
  // SyncThrough: done once every revision up to `through` is durable (a sync, if one is due).
  enum class Kind { Get, Scan, Commit, SyncThrough } kind = Kind::Get;
  std::string key;  // Get: the key; Scan: range start
  std::string end;  // Scan: range end (empty: unbounded)
  uint32_t limit = 0;
  uint32_t flags = 0;
  Txn txn;
  Durability durability = Durability::Synced;  // Commit
  uint64_t through = 0;                        // SyncThrough
  // Results, written on the storage thread before on_done is delivered.
  int status = VSP_OK;
  std::string error;
  std::vector<KV> rows;
  TxnOutcome outcome;
  std::function<void()> on_done;
};

class StorageService {
 public:
  using Deliver = std::function<void(std::function<void()>)>;

  struct Options {
    int max_batch = 512;
    int queue_depth = 65536;
    // storage.defer_syncs: Applied commits go out before their sync, where the backend can.
    bool defer_syncs = true;
  };

  StorageService(const vsp_storage_vtbl& vtbl, Deliver deliver, Options options);
  ~StorageService();

  // Starts the thread and runs the backend's create + start on it, then commits one empty
  // transaction: proof that the store takes writes, and the revision it has reached (see
  // last_revision). Blocks until done; throws StorageError with the backend's message on
  // failure, the backend then stopped and destroyed.
  void open(const vsp_host_api* host, vsp_host_instance* hi, const std::string& config_json);
  // Lets queued operations finish, stops and destroys the backend, joins the thread.
  void close();

  // Any thread. Queues `op`; its on_done is delivered when it completed (or failed).
  //
  // Inside a turn (runtime/end_of_turn.hpp) the op is held and queued with the others of the
  // same piece of core work when it ends (hold_for_item). Writers resumed together by one
  // delivery of completions then reach the storage thread together, so their commits share one
  // durable transaction, instead of the first few waking the thread and going alone while the
  // rest wait for the next fsync. Not held for the whole turn: under load a turn is long, and
  // the storage thread would sit idle through it.
  void submit(StorageOp* op);

  // The highest revision the store has handed out, as far as this service knows: the start-up
  // commit's, then every commit's. Never the 0 of an unknown store once open() returned.
  uint64_t last_revision() const noexcept { return last_revision_.load(); }
  uint64_t commits() const noexcept { return commits_.load(); }
  uint64_t batches() const noexcept { return batches_.load(); }
  // Operations waiting for the storage thread (a scrape's gauge; takes the queue's lock).
  size_t queued();

  // ---- Awaitables for core coroutines. Results throw StorageError on failure. ----
  template <class Result, class Convert>
  struct Awaiter {
    StorageService* service;
    StorageOp op;
    Convert convert;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      op.on_done = [h] { h.resume(); };
      service->submit(&op);
    }
    Result await_resume() {
      if (op.status != VSP_OK) throw StorageError(op.status, op.error);
      return convert(op);
    }
  };

  auto get(std::string key) {
    auto conv = [](StorageOp& o) -> std::optional<KV> {
      if (o.rows.empty()) return std::nullopt;
      return std::move(o.rows.front());
    };
    Awaiter<std::optional<KV>, decltype(conv)> a{this, {}, conv};
    a.op.kind = StorageOp::Kind::Get;
    a.op.key = std::move(key);
    return a;
  }

  auto scan(std::string start, std::string end, uint32_t limit = 0, bool reverse = false) {
    auto conv = [](StorageOp& o) -> std::vector<KV> { return std::move(o.rows); };
    Awaiter<std::vector<KV>, decltype(conv)> a{this, {}, conv};
    a.op.kind = StorageOp::Kind::Scan;
    a.op.key = std::move(start);
    a.op.end = std::move(end);
    a.op.limit = limit;
    a.op.flags = reverse ? VSP_SCAN_REVERSE : 0;
    return a;
  }

  // All keys starting with `prefix`.
  auto scan_prefix(const std::string& prefix, uint32_t limit = 0, bool reverse = false) {
    return scan(prefix, prefix_end(prefix), limit, reverse);
  }

  auto commit(Txn txn, Durability durability = Durability::Synced) {
    auto conv = [](StorageOp& o) -> TxnOutcome { return o.outcome; };
    Awaiter<TxnOutcome, decltype(conv)> a{this, {}, conv};
    a.op.kind = StorageOp::Kind::Commit;
    a.op.txn = std::move(txn);
    a.op.durability = durability;
    return a;
  }

  // As commit, and hands the transaction back with its outcome: a writer that keeps what it
  // wrote (a cache of a large value) takes it back rather than copying it before the commit.
  auto commit_returning(Txn txn, Durability durability = Durability::Synced) {
    auto conv = [](StorageOp& o) -> std::pair<TxnOutcome, Txn> {
      return {o.outcome, std::move(o.txn)};
    };
    Awaiter<std::pair<TxnOutcome, Txn>, decltype(conv)> a{this, {}, conv};
    a.op.kind = StorageOp::Kind::Commit;
    a.op.txn = std::move(txn);
    a.op.durability = durability;
    return a;
  }

  // Resumes once every revision up to `revision` (an Applied commit's outcome) is durable.
  // Does not suspend when it already is: always so with a backend that syncs every commit.
  // Throws StorageError when the sync that was to cover it failed (the writes stay applied),
  // also when asked after a later sync succeeded: that one proves nothing about them.
  struct DurableAwaiter {
    StorageService* service;
    StorageOp op;
    bool await_ready() const noexcept { return service->known_durable(op.through); }
    void await_suspend(std::coroutine_handle<> h) {
      op.on_done = [h] { h.resume(); };
      service->submit(&op);
    }
    void await_resume() {
      if (op.status != VSP_OK) throw StorageError(op.status, op.error);
    }
  };
  DurableAwaiter durable_through(uint64_t revision) {
    DurableAwaiter a{this, {}};
    a.op.kind = StorageOp::Kind::SyncThrough;
    a.op.through = revision;
    return a;
  }
  // The highest revision known durable (any thread).
  uint64_t synced_revision() const noexcept { return synced_revision_.load(); }
  // Whether `revision` is durable without asking the storage thread: synced, and not among the
  // writes a failed sync left unsure (those are never reported durable, see sync_for).
  bool known_durable(uint64_t revision) const noexcept {
    return synced_revision_.load() >= revision && revision > unsure_through_.load();
  }
  // Whether the backend can apply a commit now and sync it later (ABI 1.4).
  bool defers_syncs() const noexcept { return defers_syncs_; }

  // The smallest key greater than every key with this prefix ("" if none exists).
  static std::string prefix_end(std::string prefix);

 private:
  void thread_main();
  // Storage thread, during open: commits an empty transaction and returns its revision.
  uint64_t prove_writable(vsp_plugin_instance* inst);
  void stop_and_destroy(vsp_plugin_instance* inst);
  void run_reads(StorageOp* op);
  // storage_commits.cpp: a group of queued commits to the backend as one batch, and when the
  // batch fails as a whole, each transaction again on its own.
  void run_commits(std::vector<StorageOp*>& group, bool unsynced);
  struct CallResult {
    int status = VSP_OK;
    std::string error;
  };
  // One commit call (commit, or commit_unsynced when `unsynced`) with the transactions of `ops`;
  // on VSP_OK every op has its outcome.
  CallResult commit_call(StorageOp* const* ops, size_t count, bool unsynced);
  void isolate_failure(std::vector<StorageOp*>& group, const CallResult& batch, bool unsynced);
  // storage_commits.cpp: the commits and sync waits queued together, one round's worth, their
  // ops appended to `done` as they complete. When a sync is due after Applied commits, `done`
  // is delivered before the sync runs, so that their writers act while the disk syncs.
  void run_group(std::vector<StorageOp*>& group, std::vector<StorageOp*>& done);
  // Hands `done` to the core in one delivery, in order, and empties it.
  void deliver_done(std::vector<StorageOp*>& done);
  // The backend's sync; on failure every op of `waiting` fails with its error, and the
  // revisions it was to cover are remembered as unsure.
  void sync_for(const std::vector<StorageOp*>& waiting);
  // A sync wait about to be delivered: failed if its revision is one a failed sync left unsure.
  void settle_wait(StorageOp* op) const;
  void fail(StorageOp* op, int status, std::string message) const;
  class HeldSubmits;
  // Queues ops in order, or fails those the queue has no room for (any thread).
  void enqueue(StorageOp* const* ops, size_t count);

  vsp_storage_vtbl vtbl_{};
  Deliver deliver_;
  Options options_;
  vsp_plugin_instance* instance_ = nullptr;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<StorageOp*> queue_;
  std::deque<std::function<void()>> control_;  // lifecycle work to run on the thread
  bool stopping_ = false;
  std::thread thread_;

  // Set in the constructor: options_.defer_syncs, and the table has commit_unsynced and sync.
  bool defers_syncs_ = false;
  std::atomic<uint64_t> last_revision_{0};
  std::atomic<uint64_t> synced_revision_{0};  // written on the storage thread only
  // Storage thread: the revisions of failed syncs, (after, through] each with the backend's
  // error, oldest first; overlapping ones merged, the oldest dropped past kMaxUnsureRanges.
  // A later sync that succeeds does not make them durable: an fsync that failed may have
  // dropped the pages it was to write (and a database server that crashed may have lost the
  // commits), so "synced since" proves nothing about them.
  struct UnsureRange {
    uint64_t after = 0;
    uint64_t through = 0;
    int status = VSP_E_IO;
    std::string message;
  };
  static constexpr size_t kMaxUnsureRanges = 64;
  std::deque<UnsureRange> unsure_;
  std::atomic<uint64_t> unsure_through_{0};  // the highest `through` of unsure_ (any thread)
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> batches_{0};
};

}  // namespace vespid::core
