// Conformance: what a commit wrote, and the revision counter, outlive the instance.
#include "conformance.hpp"

using namespace std::string_literals;

// Referenced by the library's link options so that a static link keeps this file's cases.
extern "C" void vespid_storage_conformance_reopen() {}

namespace vespid::storage_test {
namespace {

TEST_P(StorageConformance, DataAndRevisionSurviveReopen) {
  put("a", "1");
  put("b\0\xff"s, "2\0"s);
  put("c", "3");
  del("c");
  uint64_t last = put("a", "1b");
  // A conflict last: it must not have bumped the persisted counter past `last` in a way that
  // matters (the next revision only has to be greater).
  commit({Txn().absent("a").put("x", "y")});
  const auto before = scan_all();
  ASSERT_EQ(before.size(), 2u);

  reopen();
  EXPECT_EQ(scan_all(), before) << "keys, values and versions after one reopen";
  EXPECT_FALSE(get("c").has_value()) << "a delete must survive too";
  EXPECT_FALSE(get("x").has_value());
  uint64_t next = put("d", "4");
  EXPECT_GT(next, last) << "the revision counter must survive a reopen";

  reopen();
  EXPECT_EQ(version_of("d"), next);
  EXPECT_EQ(value_of("b\0\xff"s), "2\0"s);
  EXPECT_GT(put("e", "5"), next) << "and a second one";
}

TEST_P(StorageConformance, RevisionSurvivesReopenWhenTheLastWriteWasADelete) {
  // Deleting the key with the highest version: a backend that derived the counter from the
  // stored versions would go back in time here.
  put("a", "1");
  uint64_t r2 = put("b", "2");
  uint64_t r3 = del("b");
  ASSERT_GT(r3, r2);
  reopen();
  EXPECT_GT(put("c", "3"), r3);
}

}  // namespace
}  // namespace vespid::storage_test
