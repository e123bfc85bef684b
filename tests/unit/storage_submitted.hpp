// Storage operations submitted straight to a StorageHarness's service, without a coroutine
// waiting for each, so that a test can queue several into one round and look at each after.
#pragma once

#include <atomic>
#include <deque>
#include <stdexcept>
#include <string>

#include "core_harness.hpp"
#include "storage/storage_service.hpp"

namespace vespid::core::testing {

// A transaction of one put.
inline Txn put(std::string key, std::string value) {
  Txn t;
  t.writes.push_back(Write::put(std::move(key), std::move(value)));
  return t;
}

class SubmittedOps {
 public:
  explicit SubmittedOps(StorageHarness& h) : h_(h) {}

  StorageOp& commit(Txn txn, Durability durability = Durability::Synced) {
    StorageOp& op = ops_.emplace_back();
    std::atomic<bool>& flag = done_flags_.emplace_back(false);
    op.kind = StorageOp::Kind::Commit;
    op.txn = std::move(txn);
    op.durability = durability;
    op.on_done = [this, &flag] {
      flag = true;
      ++done_;
    };
    h_.storage().submit(&op);
    return op;
  }

  // Whether `op`'s completion has run (any thread may ask).
  bool done(const StorageOp& op) const {
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (&ops_[i] == &op) return done_flags_[i].load();
    }
    throw std::logic_error("not submitted here");
  }

  // Drives the loop until every submitted operation completed.
  void wait_all() {
    h_.loop().io().restart();
    auto guard = boost::asio::make_work_guard(h_.loop().io());
    while (done_ < ops_.size()) h_.loop().io().run_one();
  }

 private:
  StorageHarness& h_;
  // Deques: submitted operations and their flags must not move.
  std::deque<StorageOp> ops_;
  std::deque<std::atomic<bool>> done_flags_;
  size_t done_ = 0;  // loop thread only
};

}  // namespace vespid::core::testing
