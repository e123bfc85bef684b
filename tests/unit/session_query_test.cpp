// The tiny query-string parser of the sessions REST routes.
#include <gtest/gtest.h>

#include "protocols/rest/session_routes.hpp"
#include "storage/keys.hpp"

namespace vespid::sessions {
namespace {

TEST(SessionQuery, ParsesDecodesAndKeepsTheLastOfRepeatedNames) {
  auto q = parse_query("limit=20&cursor=0000001%2Fses_a&x=a+b&flag&limit=30&=v&bad=%zz%4");
  EXPECT_EQ(q["limit"], "30");
  EXPECT_EQ(q["cursor"], "0000001/ses_a");
  EXPECT_EQ(q["x"], "a b");
  EXPECT_EQ(q.count("flag"), 1u);
  EXPECT_EQ(q["flag"], "");
  EXPECT_EQ(q["bad"], "%zz%4");
  EXPECT_TRUE(parse_query("").empty());
  EXPECT_TRUE(parse_query("&&").empty());
}

TEST(SessionKeys, EventKeysSortBySeq) {
  EXPECT_LT(repo::keys::session_event("s", 9), repo::keys::session_event("s", 10));
  EXPECT_EQ(repo::keys::session_event("s", 7), "sess-ev/s/0000000000000007");
  EXPECT_LT(repo::keys::org_session("o", 999, "z"), repo::keys::org_session("o", 1000, "a"));
}

}  // namespace
}  // namespace vespid::sessions
