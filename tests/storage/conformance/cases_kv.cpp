// Conformance: single keys and values (get, put, delete, binary data, large values, the order
// of writes inside one transaction).
#include <random>

#include "conformance.hpp"

using namespace std::string_literals;

// Referenced by the library's link options so that a static link keeps this file's cases.
extern "C" void vespid_storage_conformance_kv() {}

namespace vespid::storage_test {
namespace {

Bytes random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n, '\0');
  for (auto& c : b) c = static_cast<char>(rng() & 0xff);
  return b;
}

TEST_P(StorageConformance, GetOfAbsentKeyIsNotFound) {
  Kv kv;
  EXPECT_EQ(store().get("missing", &kv), VSP_E_NOT_FOUND) << "empty store";
  put("other", "x");
  EXPECT_EQ(store().get("missing", &kv), VSP_E_NOT_FOUND);
  EXPECT_EQ(store().get("othe", &kv), VSP_E_NOT_FOUND) << "a prefix of a stored key";
  EXPECT_EQ(store().get("other\0"s, &kv), VSP_E_NOT_FOUND) << "a stored key plus a NUL";
  EXPECT_EQ(store().get("others", &kv), VSP_E_NOT_FOUND) << "a stored key plus a byte";
}

TEST_P(StorageConformance, PutThenGetRoundTrips) {
  uint64_t rev = put("alpha", "one");
  ASSERT_NE(rev, 0u);
  auto kv = get("alpha");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->key, "alpha");
  EXPECT_EQ(kv->value, "one");
  EXPECT_EQ(kv->version, rev);
}

TEST_P(StorageConformance, OverwriteReplacesValueAndVersion) {
  uint64_t r1 = put("k", "first");
  uint64_t r2 = put("k", "second, longer than the first");
  ASSERT_GT(r2, r1);
  auto kv = get("k");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "second, longer than the first");
  EXPECT_EQ(kv->version, r2);
  put("k", "3");
  EXPECT_EQ(value_of("k"), "3") << "a shorter value must not keep the old tail";
}

TEST_P(StorageConformance, BinaryKeysAndValuesWithNulAndFFRoundTrip) {
  const std::vector<std::pair<Bytes, Bytes>> pairs = {
      {"\0"s, "\0"s},
      {"\0\0"s, "\xff"s},
      {"a\0b"s, "x\0y\0z"s},
      {"\xff"s, "\xff\xff\0\xff"s},
      {"\xff\xff"s, "\0\0\0"s},
      {"\x80\x7f\x01"s, "\x80"s},
      {"k\0"s, random_bytes(4096, 7)},
  };
  Txn t;
  for (const auto& [k, v] : pairs) t.put(k, v);
  uint64_t rev = commit_ok(t);
  for (const auto& [k, v] : pairs) {
    auto kv = get(k);
    ASSERT_TRUE(kv.has_value()) << "key \"" << printable(k) << "\"";
    EXPECT_EQ(kv->value, v) << "key \"" << printable(k) << "\"";
    EXPECT_EQ(kv->version, rev);
  }
  // Every key is distinct: a backend that truncates at NUL or treats bytes as text collapses
  // some of them.
  EXPECT_EQ(scan_all().size(), pairs.size());
  // All 256 byte values in one value.
  Bytes every(256, '\0');
  for (int i = 0; i < 256; ++i) every[static_cast<size_t>(i)] = static_cast<char>(i);
  put(every, every);
  auto kv = get(every);
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, every);
}

TEST_P(StorageConformance, EmptyValueIsStoredAndDistinctFromAbsent) {
  uint64_t rev = put("empty", "");
  auto kv = get("empty");
  ASSERT_TRUE(kv.has_value()) << "an empty value must not read back as absent";
  EXPECT_EQ(kv->value, "");
  EXPECT_EQ(kv->version, rev);
  Outcome o = commit({Txn().present("empty").put("seen", "yes")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].status, VSP_OK) << "PRESENT must hold for a key with an empty value";
}

TEST_P(StorageConformance, OneMiBValueRoundTrips) {
  const Bytes big = random_bytes(1u << 20, 42);
  uint64_t rev = put("big", big);
  auto kv = get("big");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value.size(), big.size());
  EXPECT_TRUE(kv->value == big) << "the 1 MiB value came back different";
  EXPECT_EQ(kv->version, rev);
  auto all = scan_all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].value == big) << "scan returned a different 1 MiB value";
}

TEST_P(StorageConformance, DeleteRemovesKey) {
  put("a", "1");
  put("b", "2");
  uint64_t rev = del("a");
  EXPECT_NE(rev, 0u);
  EXPECT_FALSE(get("a").has_value());
  EXPECT_TRUE(get("b").has_value()) << "deleting one key must not touch another";
  EXPECT_EQ(scan_all().size(), 1u);
}

TEST_P(StorageConformance, DeleteOfAbsentKeySucceedsWithARevision) {
  uint64_t before = put("x", "1");
  uint64_t rev = del("never-written");
  EXPECT_GT(rev, before) << "deleting an absent key is a committed transaction";
  EXPECT_FALSE(get("never-written").has_value());
  EXPECT_EQ(version_of("x"), before);
}

TEST_P(StorageConformance, LaterWriteToTheSameKeyInOneTxnWins) {
  uint64_t rev = commit_ok(Txn().put("k", "first").put("k", "second"));
  auto kv = get("k");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "second");
  EXPECT_EQ(kv->version, rev);

  commit_ok(Txn().put("j", "a").del("j").put("j", "b"));
  EXPECT_EQ(value_of("j"), "b");
}

TEST_P(StorageConformance, PutThenDeleteInOneTxnLeavesKeyAbsent) {
  commit_ok(Txn().put("new", "v").del("new"));
  EXPECT_FALSE(get("new").has_value()) << "a key first written in the txn";
  put("old", "v");
  commit_ok(Txn().put("old", "v2").del("old"));
  EXPECT_FALSE(get("old").has_value()) << "a key that existed before the txn";
  EXPECT_TRUE(scan_all().empty());
}

TEST_P(StorageConformance, DeleteThenPutInOneTxnLeavesKeyPresent) {
  put("k", "old");
  uint64_t rev = commit_ok(Txn().del("k").put("k", "new"));
  auto kv = get("k");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "new");
  EXPECT_EQ(kv->version, rev);
}

TEST_P(StorageConformance, AllWritesOfATxnShareItsRevision) {
  uint64_t rev = commit_ok(Txn().put("a", "1").put("b", "2").put("c", "3"));
  for (const char* k : {"a", "b", "c"}) EXPECT_EQ(version_of(k), rev) << k;
}

TEST_P(StorageConformance, UntouchedKeysKeepTheirVersion) {
  uint64_t ra = put("a", "1");
  put("b", "2");
  commit_ok(Txn().put("c", "3").del("b"));
  EXPECT_EQ(version_of("a"), ra);
}

}  // namespace
}  // namespace vespid::storage_test
