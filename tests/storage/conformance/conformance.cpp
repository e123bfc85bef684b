#include "conformance.hpp"

#include <exception>

namespace vespid::storage_test {

void StorageConformance::SetUp() {
  try {
    harness_ = std::make_unique<StoreHarness>(GetParam());
  } catch (const std::exception& e) {
    FAIL() << e.what();
  }
  std::string msg;
  ASSERT_EQ(harness_->open(&msg), VSP_OK) << "opening a fresh store failed: " << msg;
}

void StorageConformance::TearDown() {
  if (!harness_) return;
  EXPECT_TRUE(harness_->close()) << "stop never called done";
  EXPECT_TRUE(harness_->host().forbidden_calls().empty())
      << "the backend called host services storage must not use, first: "
      << harness_->host().forbidden_calls().front();
  harness_.reset();
}

uint64_t StorageConformance::commit_ok(const Txn& txn) {
  Outcome o = store().commit({txn});
  EXPECT_EQ(o.status, VSP_OK) << o.message;
  if (o.status != VSP_OK || o.results.size() != 1) return 0;
  EXPECT_EQ(o.results[0].status, VSP_OK) << "failed_compare " << o.results[0].failed_compare;
  return o.results[0].status == VSP_OK ? o.results[0].revision : 0;
}

uint64_t StorageConformance::put(const Bytes& key, const Bytes& value) {
  return commit_ok(Txn().put(key, value));
}

uint64_t StorageConformance::del(const Bytes& key) {
  return commit_ok(Txn().del(key));
}

Outcome StorageConformance::commit(const std::vector<Txn>& txns) {
  Outcome o = store().commit(txns);
  EXPECT_EQ(o.status, VSP_OK) << o.message;
  EXPECT_EQ(o.results.size(), txns.size());
  return o;
}

std::optional<Kv> StorageConformance::get(const Bytes& key) {
  Kv kv;
  std::string msg;
  int rc = store().get(key, &kv, &msg);
  if (rc == VSP_E_NOT_FOUND) return std::nullopt;
  EXPECT_EQ(rc, VSP_OK) << "get(\"" << printable(key) << "\"): " << msg;
  if (rc != VSP_OK) return std::nullopt;
  EXPECT_EQ(kv.key, key) << "get lent a different key back";
  return kv;
}

uint64_t StorageConformance::version_of(const Bytes& key) {
  auto kv = get(key);
  EXPECT_TRUE(kv.has_value()) << "key \"" << printable(key) << "\" is absent";
  return kv ? kv->version : 0;
}

Bytes StorageConformance::value_of(const Bytes& key) {
  auto kv = get(key);
  EXPECT_TRUE(kv.has_value()) << "key \"" << printable(key) << "\" is absent";
  return kv ? kv->value : Bytes();
}

std::vector<Kv> StorageConformance::scan(const Bytes& start, const Bytes& end, uint32_t limit,
                                         uint32_t flags) {
  std::vector<Kv> out;
  std::string msg;
  EXPECT_EQ(store().scan(start, end, limit, flags, &out, 0, &msg), VSP_OK) << msg;
  return out;
}

void StorageConformance::reopen() {
  ASSERT_TRUE(harness_->close()) << "stop never called done";
  std::string msg;
  ASSERT_EQ(harness_->open(&msg), VSP_OK) << "reopening the store failed: " << msg;
}

}  // namespace vespid::storage_test
