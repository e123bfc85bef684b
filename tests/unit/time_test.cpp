// runtime/time: the ISO 8601 form stored with events, and back.
#include "runtime/time.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <string>

namespace vespid::util {
namespace {

TEST(Iso8601, RoundTripsItsOwnForm) {
  for (int64_t ms : {int64_t{0}, int64_t{1764806400123}, int64_t{951782400999}}) {
    EXPECT_EQ(parse_iso8601_ms(iso8601(ms)), ms) << iso8601(ms);
  }
  EXPECT_EQ(parse_iso8601_ms("2026-12-03T19:00:00Z"), 1796324400000);
  EXPECT_EQ(parse_iso8601_ms("2026-12-03T19:00:00.5Z"), 1796324400500);
}

// What iso8601 wrote with gmtime_r and snprintf before it wrote its digits by hand.
std::string libc_form(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

TEST(Iso8601, WritesWhatGmtimeAndSnprintfWrote) {
  const int64_t last_of_9999 = 253402300799999;  // 9999-12-31T23:59:59.999Z
  for (int64_t ms : {int64_t{0}, int64_t{999}, int64_t{86399999}, int64_t{86400000},
                     int64_t{951782400000},   // 2000-02-29, a leap day of a century
                     int64_t{4107542399999},  // 2100-02-28T23:59:59.999Z, 2100 is no leap year
                     int64_t{4107542400000}, int64_t{1796324400500}, last_of_9999, last_of_9999 + 1,
                     int64_t{-1}, int64_t{-86400001}}) {
    EXPECT_EQ(iso8601(ms), libc_form(ms)) << ms;
  }
  EXPECT_EQ(iso8601(last_of_9999), "9999-12-31T23:59:59.999Z");
  std::mt19937_64 rng(20261207);
  std::uniform_int_distribution<int64_t> any(0, last_of_9999);
  for (int i = 0; i < 200000; ++i) {
    const int64_t ms = any(rng);
    ASSERT_EQ(iso8601(ms), libc_form(ms)) << ms;
  }
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
