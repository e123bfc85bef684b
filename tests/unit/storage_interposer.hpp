// Stands between the storage service and the real sqlite plugin, so a test can arrange what the
// service sees: it records the size of every commit call, can hold a call until released (so
// that commits submitted meanwhile queue up into one batch) and can fail every call the way a
// broken store would. Reads pass straight through. ABI 1.4's commit_unsynced and sync, when the
// plugin has them, are recorded too (calls_log), and a test can run its own code inside a sync
// (on_sync) or take both away, as a 1.3 table would be (without_deferred_syncs).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>
#include <vespid/plugin.hpp>

#include "core_harness.hpp"

namespace vespid::core::testing {

class StorageInterposer {
 public:
  // The C table has no context pointer, so the one live interposer is found through a static.
  StorageInterposer() { current_ = this; }
  ~StorageInterposer() { current_ = nullptr; }
  StorageInterposer(const StorageInterposer&) = delete;
  StorageInterposer& operator=(const StorageInterposer&) = delete;

  // For StorageHarness: the plugin's table with this interposer's commit.
  StorageHarness::Interpose interpose() {
    return [this](const vsp_storage_vtbl& real) {
      real_ = real;
      vsp_storage_vtbl v = real;
      v.commit = &StorageInterposer::commit;
      const bool defer = real.commit_unsynced != nullptr && !without_deferred_syncs_;
      v.commit_unsynced = defer ? &StorageInterposer::commit_unsynced : nullptr;
      v.sync = defer ? &StorageInterposer::sync : nullptr;
      return v;
    };
  }

  // Before interpose(): the table the service gets has no commit_unsynced and sync.
  void without_deferred_syncs() { without_deferred_syncs_ = true; }

  // Runs on the storage thread inside every sync, before the backend's; a status other than
  // VSP_OK fails the sync with it.
  void on_sync(std::function<int()> hook) {
    std::lock_guard lock(mu_);
    on_sync_ = std::move(hook);
  }

  // Every call in order: "commit N", "unsynced N" (N transactions) or "sync".
  std::vector<std::string> calls_log() const {
    std::lock_guard lock(mu_);
    return log_;
  }

  // The next commit call waits inside the backend until release().
  void hold_next() {
    std::lock_guard lock(mu_);
    hold_ = true;
    held_ = false;
  }
  // Returns once the held call has arrived (the storage thread is now busy with it).
  void wait_until_held() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_; });
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      hold_ = false;
    }
    cv_.notify_all();
  }

  // From now on every commit call fails as a whole with `status` and `message`.
  void fail_every_commit(int status, std::string message) {
    std::lock_guard lock(mu_);
    fail_status_ = status;
    fail_message_ = std::move(message);
  }

  // The number of transactions in each commit call so far, in order.
  std::vector<size_t> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  void forget_calls() {
    std::lock_guard lock(mu_);
    calls_.clear();
    log_.clear();
  }

 private:
  static int commit(vsp_plugin_instance* instance, const vsp_txn* txns, size_t count,
                    vsp_txn_result* results, vsp_error* err) {
    return current_->on_commit(instance, txns, count, results, err);
  }

  static int commit_unsynced(vsp_plugin_instance* instance, const vsp_txn* txns, size_t count,
                             vsp_txn_result* results, vsp_error* err) {
    {
      std::lock_guard lock(current_->mu_);
      current_->log_.push_back("unsynced " + std::to_string(count));
    }
    return current_->real_.commit_unsynced(instance, txns, count, results, err);
  }

  static int sync(vsp_plugin_instance* instance, vsp_error* err) {
    std::function<int()> hook;
    {
      std::lock_guard lock(current_->mu_);
      current_->log_.push_back("sync");
      hook = current_->on_sync_;
    }
    if (hook) {
      if (int rc = hook(); rc != VSP_OK) {
        vsp::fill_error(err, rc, "the test's disk went away");
        return rc;
      }
    }
    return current_->real_.sync(instance, err);
  }

  int on_commit(vsp_plugin_instance* instance, const vsp_txn* txns, size_t count,
                vsp_txn_result* results, vsp_error* err) {
    {
      std::unique_lock lock(mu_);
      calls_.push_back(count);
      log_.push_back("commit " + std::to_string(count));
      if (hold_) {
        held_ = true;
        cv_.notify_all();
        cv_.wait(lock, [&] { return !hold_; });
      }
      if (fail_status_ != VSP_OK) {
        vsp::fill_error(err, fail_status_, fail_message_.c_str());
        return fail_status_;
      }
    }
    return real_.commit(instance, txns, count, results, err);
  }

  static inline StorageInterposer* current_ = nullptr;
  vsp_storage_vtbl real_{};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  bool held_ = false;
  int fail_status_ = VSP_OK;
  std::string fail_message_;
  std::vector<size_t> calls_;
  std::vector<std::string> log_;
  std::function<int()> on_sync_;
  bool without_deferred_syncs_ = false;
};

}  // namespace vespid::core::testing
