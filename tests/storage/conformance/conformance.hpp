// The storage-ABI conformance suite. A backend instantiates it with one line:
//
//   INSTANTIATE_TEST_SUITE_P(MyBackend, StorageConformance,
//                            testing::Values(my_backend()), BackendName());
//
// and links vespid_storage_conformance (see tests/storage/README.md). Every case starts from a
// fresh, empty, started store and drives the plugin's C table directly.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend.hpp"
#include "harness.hpp"
#include "store_client.hpp"

namespace vespid::storage_test {

class StorageConformance : public testing::TestWithParam<StorageBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  StoreHarness& harness() { return *harness_; }
  StoreClient& store() { return harness_->store(); }

  // One-transaction conveniences. Each records a test failure when the call does not succeed
  // and then returns 0 / an empty result.
  uint64_t put(const Bytes& key, const Bytes& value);
  uint64_t del(const Bytes& key);
  uint64_t commit_ok(const Txn& txn);  // expects VSP_OK and an applied txn; returns its revision
  Outcome commit(const std::vector<Txn>& txns);
  std::optional<Kv> get(const Bytes& key);
  // The key's version / value; records a failure and returns 0 / "" when the key is absent.
  uint64_t version_of(const Bytes& key);
  Bytes value_of(const Bytes& key);
  std::vector<Kv> scan(const Bytes& start, const Bytes& end, uint32_t limit = 0,
                       uint32_t flags = 0);
  // Everything in the store, in key order.
  std::vector<Kv> scan_all() { return scan({}, {}); }
  // stop + destroy, then create + start again on the same config (same files).
  void reopen();

 private:
  std::unique_ptr<StoreHarness> harness_;
};

}  // namespace vespid::storage_test
