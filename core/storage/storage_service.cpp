#include "storage/storage_service.hpp"

#include <pthread.h>

#include <future>

#include "runtime/end_of_turn.hpp"
#include "runtime/gateway_metrics.hpp"

namespace vespid::core {

namespace {

const uint8_t* bytes(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

int collect(void* ctx, const vsp_kv* kv) {
  auto* rows = static_cast<std::vector<KV>*>(ctx);
  rows->push_back(KV{std::string(reinterpret_cast<const char*>(kv->key), kv->key_len),
                     std::string(reinterpret_cast<const char*>(kv->value), kv->value_len),
                     kv->version});
  return 0;
}

vsp_error fresh_error() {
  vsp_error e{};
  e.struct_size = sizeof e;
  return e;
}

}  // namespace

StorageService::StorageService(const vsp_storage_vtbl& vtbl, Deliver deliver, Options options)
    : vtbl_(vtbl),
      deliver_(std::move(deliver)),
      options_(options),
      defers_syncs_(options.defer_syncs && vtbl.commit_unsynced != nullptr &&
                    vtbl.sync != nullptr) {}

StorageService::~StorageService() {
  close();
}

std::string StorageService::prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    auto last = static_cast<unsigned char>(prefix.back());
    if (last != 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return {};
}

void StorageService::open(const vsp_host_api* host, vsp_host_instance* hi,
                          const std::string& config_json) {
  thread_ = std::thread([this] { thread_main(); });
  std::promise<void> started;
  auto fut = started.get_future();
  {
    std::lock_guard lock(mutex_);
    control_.push_back([&] {
      vsp_error err = fresh_error();
      vsp_plugin_instance* inst = nullptr;
      int rc = vtbl_.life.create(host, hi, config_json.data(), config_json.size(), &inst, &err);
      if (rc != VSP_OK) {
        started.set_exception(std::make_exception_ptr(StorageError(rc, err.message)));
        return;
      }
      err = fresh_error();
      rc = vtbl_.life.start(inst, &err);
      if (rc != VSP_OK) {
        vtbl_.life.destroy(inst);
        started.set_exception(std::make_exception_ptr(StorageError(rc, err.message)));
        return;
      }
      try {
        last_revision_ = prove_writable(inst);
        // A synced commit: whatever an earlier process applied without a sync is durable now.
        synced_revision_ = last_revision_.load();
      } catch (const StorageError&) {
        stop_and_destroy(inst);
        started.set_exception(std::current_exception());
        return;
      }
      {
        std::lock_guard guard(mutex_);  // submit() reads instance_ on other threads
        instance_ = inst;
      }
      started.set_value();
    });
  }
  wake_.notify_one();
  fut.get();
}

uint64_t StorageService::prove_writable(vsp_plugin_instance* inst) {
  // The storage ABI has no call that reads the last revision, and a backend can start on a
  // store it cannot write. Committing one empty transaction settles both: it fails on a store
  // that takes no writes, so the gateway does not start "ready" and fail every write later, and
  // it gets the next revision like any other commit (storage.h), which is then the revision the
  // store has reached. Without it a restarted gateway said "revision 0" (in its log, /healthz
  // and status) until its first write. The cost is one revision and one durable write per start.
  vsp_txn empty{nullptr, 0, nullptr, 0};
  vsp_txn_result result{};
  vsp_error err = fresh_error();
  int rc = vtbl_.commit(inst, &empty, 1, &result, &err);
  if (rc == VSP_OK && result.status != VSP_OK) rc = result.status;
  if (rc != VSP_OK) {
    throw StorageError(rc, std::string("the store opened but does not take writes: ") +
                               (err.message[0] != '\0' ? err.message : "commit refused"));
  }
  return result.revision;
}

void StorageService::stop_and_destroy(vsp_plugin_instance* inst) {
  std::promise<void> stopped;
  vtbl_.life.stop(
      inst, [](void* p) { static_cast<std::promise<void>*>(p)->set_value(); }, &stopped);
  stopped.get_future().wait();
  vtbl_.life.destroy(inst);
}

void StorageService::close() {
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

size_t StorageService::queued() {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

// This thread's ops submitted during the piece of core work running now, for one service.
// Registered on the first submit and released (queued) when that work item ends.
class StorageService::HeldSubmits final : public HeldOutput {
 public:
  explicit HeldSubmits(StorageService* service) : service_(service) {}
  StorageService* service() const noexcept { return service_; }
  void add(StorageOp* op) { ops_.push_back(op); }
  void release_held() noexcept override;

 private:
  StorageService* service_;
  std::vector<StorageOp*> ops_;
};

namespace {
// The holder this thread's current work item uses, if any (one service at a time; a second
// service submitting in the same item gets a holder of its own).
thread_local std::weak_ptr<HeldOutput> t_held;
}  // namespace

void StorageService::HeldSubmits::release_held() noexcept {
  if (t_held.lock().get() == this) t_held.reset();
  service_->enqueue(ops_.data(), ops_.size());
  ops_.clear();
}

void StorageService::submit(StorageOp* op) {
  if (end_of_turn::active()) {
    auto held = std::static_pointer_cast<HeldSubmits>(t_held.lock());
    if (!held || held->service() != this) {
      held = std::make_shared<HeldSubmits>(this);
      end_of_turn::hold_for_item(held);
      t_held = held;
    }
    held->add(op);
    return;
  }
  enqueue(&op, 1);
}

void StorageService::enqueue(StorageOp* const* ops, size_t count) {
  size_t taken = 0;
  bool open = false;
  {
    std::lock_guard lock(mutex_);
    open = !stopping_ && instance_ != nullptr;
    const bool was_empty = queue_.empty();
    while (open && taken < count && queue_.size() < static_cast<size_t>(options_.queue_depth)) {
      queue_.push_back(ops[taken++]);
    }
    if (was_empty && taken > 0) wake_.notify_one();
  }
  for (size_t i = taken; i < count; ++i) {
    StorageOp* op = ops[i];
    if (open) metrics::instruments().storage_queue_rejections.inc();
    op->status = open ? VSP_E_OVERFLOW : VSP_E_CLOSED;
    op->error = open ? "storage queue is full (storage.queue_depth = " +
                           std::to_string(options_.queue_depth) + ")"
                     : "storage is closed";
    deliver_([op] { op->on_done(); });
  }
}

void StorageService::fail(StorageOp* op, int status, std::string message) const {
  op->status = status;
  op->error = std::move(message);
}

void StorageService::run_reads(StorageOp* op) {
  vsp_error err = fresh_error();
  int rc;
  if (op->kind == StorageOp::Kind::Get) {
    rc = vtbl_.get(instance_, bytes(op->key), op->key.size(), &collect, &op->rows, &err);
    if (rc == VSP_E_NOT_FOUND) rc = VSP_OK;
  } else {
    rc = vtbl_.scan(instance_, bytes(op->key), op->key.size(), bytes(op->end), op->end.size(),
                    op->limit, op->flags, &collect, &op->rows, &err);
  }
  if (rc != VSP_OK) fail(op, rc, err.message);
}

void StorageService::deliver_done(std::vector<StorageOp*>& done) {
  if (done.empty()) return;
  deliver_([done = std::move(done)] {
    for (StorageOp* op : done) op->on_done();
  });
  done.clear();
}

void StorageService::thread_main() {
  // Named so that top -H, perf and vespid-bench's per-thread figures tell it from the loop.
  ::pthread_setname_np(::pthread_self(), "vsp-storage");
  for (;;) {
    std::deque<StorageOp*> work;
    std::deque<std::function<void()>> control;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !control_.empty(); });
      work.swap(queue_);
      control.swap(control_);
      if (work.empty() && control.empty() && stopping_) break;
    }
    for (auto& fn : control) fn();

    // Writers waiting for a sync that has happened since they queued (typically the one that
    // ran while they were told their commit was applied) hear back first, in a delivery of
    // their own, rather than after this round's commit and fsync.
    std::vector<StorageOp*> done;
    const uint64_t synced = synced_revision_.load();
    std::erase_if(work, [&](StorageOp* op) {
      const bool covered = op->kind == StorageOp::Kind::SyncThrough && op->through <= synced;
      if (covered) {
        settle_wait(op);
        done.push_back(op);
      }
      return covered;
    });
    deliver_done(done);

    // Run in submission order, but hand consecutive commits (and the sync waits among them) to
    // the backend as one batch.
    std::vector<StorageOp*> group;
    auto flush_group = [&] {
      if (group.empty()) return;
      run_group(group, done);
      group.clear();
    };
    for (StorageOp* op : work) {
      if (op->kind == StorageOp::Kind::Commit || op->kind == StorageOp::Kind::SyncThrough) {
        group.push_back(op);
        if (group.size() >= static_cast<size_t>(options_.max_batch)) flush_group();
      } else {
        flush_group();
        run_reads(op);
        done.push_back(op);
      }
    }
    flush_group();
    // One delivery per round (two when Applied commits went out before a sync): completions
    // reach the core in one hop, in order.
    deliver_done(done);
  }
  if (instance_ != nullptr) {
    stop_and_destroy(instance_);
    std::lock_guard lock(mutex_);
    instance_ = nullptr;
  }
}

}  // namespace vespid::core
