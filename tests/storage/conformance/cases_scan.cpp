// Conformance: range scans (bounds, direction, limits, early stop, bytewise order, volume).
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "conformance.hpp"

using namespace std::string_literals;

// Referenced by the library's link options so that a static link keeps this file's cases.
extern "C" void vespid_storage_conformance_scan() {}

namespace vespid::storage_test {
namespace {

std::vector<Bytes> keys_of(const std::vector<Kv>& kvs) {
  std::vector<Bytes> out;
  for (const auto& kv : kvs) out.push_back(kv.key);
  return out;
}

std::vector<Bytes> reversed(std::vector<Bytes> v) {
  std::reverse(v.begin(), v.end());
  return v;
}

using Keys = std::vector<Bytes>;

TEST_P(StorageConformance, ScanForwardReturnsTheRangeInKeyOrder) {
  std::map<Bytes, uint64_t> rev;
  for (const char* k : {"d", "a", "f", "c", "e", "b"}) rev[k] = put(k, std::string("v") + k);
  auto got = scan("b", "e");
  ASSERT_EQ(keys_of(got), (Keys{"b", "c", "d"}));
  for (const auto& kv : got) {
    EXPECT_EQ(kv.value, "v" + kv.key);
    EXPECT_EQ(kv.version, rev[kv.key]) << kv.key;
  }
}

TEST_P(StorageConformance, ScanStartIsInclusiveAndEndExclusive) {
  for (const char* k : {"a", "b", "c"}) put(k, "v");
  EXPECT_EQ(keys_of(scan("a", "c")), (Keys{"a", "b"}));
  EXPECT_EQ(keys_of(scan("a", "c", 0, VSP_SCAN_REVERSE)), (Keys{"b", "a"}));
  EXPECT_EQ(keys_of(scan("a\0"s, "c\0"s)), (Keys{"b", "c"}));
  EXPECT_EQ(keys_of(scan("b", "b\0"s)), (Keys{"b"})) << "[k, k+\\0) is exactly k";
}

TEST_P(StorageConformance, ScanReverseReturnsTheRangeInDescendingOrder) {
  for (const char* k : {"d", "a", "f", "c", "e", "b"}) put(k, std::string("v") + k);
  auto got = scan("b", "e", 0, VSP_SCAN_REVERSE);
  ASSERT_EQ(keys_of(got), (Keys{"d", "c", "b"}));
  for (const auto& kv : got) EXPECT_EQ(kv.value, "v" + kv.key);
}

TEST_P(StorageConformance, ScanLimitCountsFromTheScanDirection) {
  for (const char* k : {"a", "b", "c", "d", "e"}) put(k, "v");
  EXPECT_EQ(keys_of(scan("b", "e", 2)), (Keys{"b", "c"}));
  EXPECT_EQ(keys_of(scan("b", "e", 2, VSP_SCAN_REVERSE)), (Keys{"d", "c"}));
  EXPECT_EQ(keys_of(scan("", "", 1)), (Keys{"a"}));
  EXPECT_EQ(keys_of(scan("", "", 1, VSP_SCAN_REVERSE)), (Keys{"e"}));
  EXPECT_EQ(keys_of(scan("b", "e", 100)), (Keys{"b", "c", "d"})) << "a limit above the count";
  EXPECT_EQ(keys_of(scan("b", "e", 0)), (Keys{"b", "c", "d"})) << "limit 0 means no limit";
}

TEST_P(StorageConformance, ScanWithAnEmptyEndIsUnbounded) {
  for (const char* k : {"a", "b", "c"}) put(k, "v");
  put("\xff\xff\xff"s, "v");
  EXPECT_EQ(keys_of(scan("b", "")), (Keys{"b", "c", "\xff\xff\xff"s}));
  EXPECT_EQ(keys_of(scan("b", "", 0, VSP_SCAN_REVERSE)), (Keys{"\xff\xff\xff"s, "c", "b"}));
  EXPECT_EQ(keys_of(scan("", "")), (Keys{"a", "b", "c", "\xff\xff\xff"s}));
  EXPECT_EQ(keys_of(scan("", "", 0, VSP_SCAN_REVERSE)), (Keys{"\xff\xff\xff"s, "c", "b", "a"}));
  EXPECT_EQ(keys_of(scan("", "b")), (Keys{"a"})) << "an empty start is the lowest key";
}

TEST_P(StorageConformance, ScanOfAnEmptyRangeReturnsNothing) {
  EXPECT_TRUE(scan("", "").empty()) << "an empty store";
  for (const char* k : {"a", "c", "e"}) put(k, "v");
  EXPECT_TRUE(scan("c", "c").empty()) << "start == end";
  EXPECT_TRUE(scan("c", "c", 0, VSP_SCAN_REVERSE).empty()) << "start == end, reverse";
  EXPECT_TRUE(scan("d", "b").empty()) << "start > end";
  EXPECT_TRUE(scan("d", "b", 0, VSP_SCAN_REVERSE).empty()) << "start > end, reverse";
  EXPECT_TRUE(scan("b", "c").empty()) << "between two keys";
  EXPECT_TRUE(scan("f", "").empty()) << "past the last key";
  EXPECT_TRUE(scan("f", "", 0, VSP_SCAN_REVERSE).empty()) << "past the last key, reverse";
}

TEST_P(StorageConformance, ScanOfAPrefixRange) {
  // The usual prefix scan is [p, p with its last byte incremented).
  for (const Bytes& k : {"use"s, "user"s, "user/"s, "user/1"s, "user/2"s, "user/2/x"s, "user0"s,
                         "user."s, "usera"s, "user/\xff"s}) {
    put(k, "v");
  }
  EXPECT_EQ(keys_of(scan("user/", "user0")),
            (Keys{"user/", "user/1", "user/2", "user/2/x", "user/\xff"s}));
  EXPECT_EQ(keys_of(scan("user/", "user0", 0, VSP_SCAN_REVERSE)),
            (Keys{"user/\xff"s, "user/2/x", "user/2", "user/1", "user/"}));
  EXPECT_EQ(keys_of(scan("user/2", "user/3")), (Keys{"user/2", "user/2/x"}));
}

TEST_P(StorageConformance, ScanStopsWhenTheSinkReturnsNonZero) {
  for (const char* k : {"a", "b", "c", "d", "e"}) put(k, "v");
  for (uint32_t flags : {0u, VSP_SCAN_REVERSE}) {
    std::vector<Kv> got;
    std::string msg;
    EXPECT_EQ(store().scan("", "", 0, flags, &got, 2, &msg), VSP_OK)
        << "stopping early is not an error: " << msg;
    EXPECT_EQ(keys_of(got), flags ? (Keys{"e", "d"}) : (Keys{"a", "b"}))
        << "the sink must not be called again after it asked to stop";
  }
  // The next scan starts afresh (a reused cursor must have been reset).
  EXPECT_EQ(keys_of(scan("", "")), (Keys{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(value_of("c"), "v");
}

TEST_P(StorageConformance, KeysOrderBytewiseShorterFirst) {
  // memcmp order with bytes unsigned (0x80 and 0xff after 'z'), a prefix before its extensions.
  const Keys sorted = {"\0"s,    "\0\0"s, "\x01"s,     "A"s,     "a"s,      "a\0"s,     "a\0\0"s,
                       "a\x01"s, "ab"s,   "a\x7f"s,    "a\x80"s, "a\xff"s,  "b"s,       "z"s,
                       "\x7f"s,  "\x80"s, "\xfe\xff"s, "\xff"s,  "\xff\0"s, "\xff\xff"s};
  ASSERT_TRUE(std::is_sorted(sorted.begin(), sorted.end()));
  Keys shuffled = sorted;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(1234));
  Txn t;
  for (const auto& k : shuffled) t.put(k, "v");
  commit_ok(t);
  EXPECT_EQ(keys_of(scan_all()), sorted);
  EXPECT_EQ(keys_of(scan("", "", 0, VSP_SCAN_REVERSE)), reversed(sorted));
  // Bounds compare bytewise too.
  EXPECT_EQ(keys_of(scan("a", "ab")), (Keys{"a", "a\0"s, "a\0\0"s, "a\x01"s}));
  EXPECT_EQ(keys_of(scan("ab", "b")), (Keys{"ab", "a\x7f"s, "a\x80"s, "a\xff"s}));
  EXPECT_EQ(keys_of(scan("\x80"s, "")),
            (Keys{"\x80"s, "\xfe\xff"s, "\xff"s, "\xff\0"s, "\xff\xff"s}));
}

TEST_P(StorageConformance, TenThousandKeysScanBackCompleteAndInOrder) {
  constexpr int kKeys = 10000;
  // Keys of mixed lengths and bytes, written in a scrambled order over a batch of 10 txns.
  std::mt19937 rng(99);
  std::set<Bytes> expected;
  while (expected.size() < kKeys) {
    Bytes k(1 + rng() % 12, '\0');
    for (auto& c : k) c = static_cast<char>(rng() & 0xff);
    expected.insert(k);
  }
  Keys order(expected.begin(), expected.end());
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<Txn> batch(10);
  for (size_t i = 0; i < order.size(); ++i) batch[i % 10].put(order[i], "value:" + order[i]);
  Outcome o = commit(batch);
  for (const auto& r : o.results) ASSERT_EQ(r.status, VSP_OK);

  auto all = scan_all();
  ASSERT_EQ(all.size(), expected.size());
  size_t i = 0;
  for (const Bytes& k : expected) {
    ASSERT_EQ(all[i].key, k) << "position " << i;
    ASSERT_EQ(all[i].value, "value:" + k) << "position " << i;
    ++i;
  }
  auto back = scan("", "", 0, VSP_SCAN_REVERSE);
  ASSERT_EQ(back.size(), expected.size());
  EXPECT_TRUE(std::equal(back.begin(), back.end(), all.rbegin(), all.rend()));

  // Paging with limit and a resume key (last key + NUL) visits every key exactly once.
  Keys paged;
  Bytes from;
  for (;;) {
    auto page = scan(from, "", 777);
    if (page.empty()) break;
    for (const auto& kv : page) paged.push_back(kv.key);
    from = page.back().key + '\0';
  }
  EXPECT_EQ(paged, Keys(expected.begin(), expected.end()));
}

}  // namespace
}  // namespace vespid::storage_test
