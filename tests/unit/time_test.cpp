// runtime/time: the ISO 8601 form stored with events, and back.
#include "runtime/time.hpp"

#include <gtest/gtest.h>

namespace vespid::util {
namespace {

TEST(Iso8601, RoundTripsItsOwnForm) {
  for (int64_t ms : {int64_t{0}, int64_t{1764806400123}, int64_t{951782400999}}) {
    EXPECT_EQ(parse_iso8601_ms(iso8601(ms)), ms) << iso8601(ms);
  }
  EXPECT_EQ(parse_iso8601_ms("2026-12-03T19:00:00Z"), 1796324400000);
  EXPECT_EQ(parse_iso8601_ms("2026-12-03T19:00:00.5Z"), 1796324400500);
}

TEST(Iso8601, AnythingElseIsZero) {
  for (const char* bad :
       {"", "yesterday", "2026-12-03", "2026-12-03T19:00:00", "2026-12-03T19:00:00+01:00",
        "2026-13-03T19:00:00Z", "2026-12-03T19:00:00.Z", "2026-12-03T19:00:00Zjunk"}) {
    EXPECT_EQ(parse_iso8601_ms(bad), 0) << bad;
  }
}

}  // namespace
}  // namespace vespid::util
