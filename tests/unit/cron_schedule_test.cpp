// services/workflows/cron_schedule: expressions parsed or refused naming the field and the
// reason, and next_after's answers in UTC and in real zones across DST (the gap skips, the
// repeated hour fires twice), checked against a minute-by-minute walk as well.
#include "services/workflows/cron_schedule.hpp"

#include <gtest/gtest.h>
#include <time.h>

#include <functional>
#include <string>
#include <vector>

#include "runtime/time.hpp"
#include "runtime/time_zone.hpp"
#include "skip_or_fail.hpp"

namespace vespid::workflows {
namespace {

using util::TimeZone;

TimeZone utc() {
  return *TimeZone::load("UTC", nullptr);
}

// The system's zone; a skip (a failure under CI) where tzdata is not installed.
#define LOAD_SYSTEM_ZONE(var, zone_name)                    \
  std::string var##_error;                                  \
  const auto var = TimeZone::load(zone_name, &var##_error); \
  if (!var) VESPID_SKIP_UNLESS_CI(zone_name << " cannot be loaded: " << var##_error);

// The next `count` firings after `after` (ISO 8601), as ISO 8601; "never" when there is none.
std::vector<std::string> firings(const std::string& expr, const char* after, const TimeZone& tz,
                                 int count = 1) {
  std::string error;
  const auto schedule = CronSchedule::parse(expr, &error);
  if (!schedule) return {"parse error: " + error};
  std::vector<std::string> out;
  int64_t from = util::parse_iso8601_ms(after);
  for (int i = 0; i < count; ++i) {
    const auto next = schedule->next_after(from, tz);
    if (!next) {
      out.push_back("never");
      break;
    }
    out.push_back(util::iso8601(*next));
    from = *next;
  }
  return out;
}

std::string next(const std::string& expr, const char* after, const TimeZone& tz) {
  return firings(expr, after, tz)[0];
}

std::string parse_error(const std::string& expr) {
  std::string error;
  EXPECT_FALSE(CronSchedule::parse(expr, &error)) << expr;
  return error;
}

TEST(CronSchedule, EveryQuarterHourIsStrictlyAfter) {
  EXPECT_EQ(next("*/15 * * * *", "2026-03-27T10:07:30Z", utc()), "2026-03-27T10:15:00.000Z");
  EXPECT_EQ(next("*/15 * * * *", "2026-03-27T10:14:59.999Z", utc()), "2026-03-27T10:15:00.000Z");
  EXPECT_EQ(next("*/15 * * * *", "2026-03-27T10:15:00Z", utc()), "2026-03-27T10:30:00.000Z");
  EXPECT_EQ(next("*/15 * * * *", "2026-03-27T23:50:00Z", utc()), "2026-03-28T00:00:00.000Z");
  EXPECT_EQ(next("* * * * *", "2026-12-31T23:59:00Z", utc()), "2027-01-01T00:00:00.000Z");
}

TEST(CronSchedule, StepsRangesAndLists) {
  EXPECT_EQ(firings("5/20 * * * *", "2026-03-27T10:00:00Z", utc(), 4),
            (std::vector<std::string>{"2026-03-27T10:05:00.000Z", "2026-03-27T10:25:00.000Z",
                                      "2026-03-27T10:45:00.000Z", "2026-03-27T11:05:00.000Z"}));
  EXPECT_EQ(firings("10-30/10,59 22 * * *", "2026-03-27T12:00:00Z", utc(), 5),
            (std::vector<std::string>{"2026-03-27T22:10:00.000Z", "2026-03-27T22:20:00.000Z",
                                      "2026-03-27T22:30:00.000Z", "2026-03-27T22:59:00.000Z",
                                      "2026-03-28T22:10:00.000Z"}));
  EXPECT_EQ(firings("0 */6 1,15 * *", "2026-03-14T00:00:00Z", utc(), 5),
            (std::vector<std::string>{"2026-03-15T00:00:00.000Z", "2026-03-15T06:00:00.000Z",
                                      "2026-03-15T12:00:00.000Z", "2026-03-15T18:00:00.000Z",
                                      "2026-04-01T00:00:00.000Z"}));
}

TEST(CronSchedule, WeekdayMorningsInBerlinFollowDst) {
  LOAD_SYSTEM_ZONE(berlin, "Europe/Berlin");
  // Friday 09:00 is 08:00Z in CET; DST starts on Sunday the 29th, so Monday's is 07:00Z.
  EXPECT_EQ(next("0 9 * * 1-5", "2026-03-27T07:59:00Z", *berlin), "2026-03-27T08:00:00.000Z");
  EXPECT_EQ(next("0 9 * * 1-5", "2026-03-27T12:00:00Z", *berlin), "2026-03-30T07:00:00.000Z");
  // Past the file's transition table (2037): the footer rule, same answer shape.
  EXPECT_EQ(next("0 9 * * 1-5", "2045-03-24T12:00:00Z", *berlin), "2045-03-27T07:00:00.000Z");
}

TEST(CronSchedule, AWallTimeInTheSpringGapDoesNotFireThatDay) {
  LOAD_SYSTEM_ZONE(berlin, "Europe/Berlin");
  // 2026-03-29 goes from 01:59:59 CET to 03:00 CEST: there is no 02:30 that day.
  EXPECT_EQ(firings("30 2 * * *", "2026-03-28T00:00:00Z", *berlin, 3),
            (std::vector<std::string>{"2026-03-28T01:30:00.000Z", "2026-03-30T00:30:00.000Z",
                                      "2026-03-31T00:30:00.000Z"}));
}

TEST(CronSchedule, AWallTimeInTheRepeatedHourFiresTwice) {
  LOAD_SYSTEM_ZONE(berlin, "Europe/Berlin");
  // 2026-10-25 goes from 02:59:59 CEST back to 02:00 CET: 02:30 comes at 00:30Z and 01:30Z.
  EXPECT_EQ(firings("30 2 * * *", "2026-10-24T12:00:00Z", *berlin, 3),
            (std::vector<std::string>{"2026-10-25T00:30:00.000Z", "2026-10-25T01:30:00.000Z",
                                      "2026-10-26T01:30:00.000Z"}));
}

TEST(CronSchedule, ZonesAtHalfAndQuarterHours) {
  LOAD_SYSTEM_ZONE(kolkata, "Asia/Kolkata");
  LOAD_SYSTEM_ZONE(kathmandu, "Asia/Kathmandu");
  // The local hour turns at :30 UTC in Kolkata (+5:30) and at :15 in Kathmandu (+5:45).
  EXPECT_EQ(next("0 * * * *", "2026-01-15T10:00:00Z", *kolkata), "2026-01-15T10:30:00.000Z");
  EXPECT_EQ(next("0 16 * * *", "2026-01-15T09:00:00Z", *kolkata), "2026-01-15T10:30:00.000Z");
  EXPECT_EQ(next("15 10 * * *", "2026-01-15T00:00:00Z", *kathmandu), "2026-01-15T04:30:00.000Z");
  EXPECT_EQ(next("0 0 * * *", "2026-01-15T00:00:00Z", *kathmandu), "2026-01-15T18:15:00.000Z");
}

TEST(CronSchedule, LeapDaysAndDaysThatNeverCome) {
  EXPECT_EQ(next("0 0 29 2 *", "2026-01-01T00:00:00Z", utc()), "2028-02-29T00:00:00.000Z");
  EXPECT_EQ(next("0 0 31 2 *", "2026-01-01T00:00:00Z", utc()), "never");
  EXPECT_EQ(next("0 0 30 2 *", "2026-01-01T00:00:00Z", utc()), "never");
  EXPECT_EQ(next("0 0 31 4,6,9,11 *", "2026-01-01T00:00:00Z", utc()), "never");
  // Give up after five years: from 2097 the next February 29 is in 2104 (2100 is not leap).
  EXPECT_EQ(next("0 0 29 2 *", "2096-03-01T00:00:00Z", utc()), "never");
}

TEST(CronSchedule, DayOfMonthOrDayOfWeekWhenBothAreRestricted) {
  // The 13th or any Friday (March 2026: Fridays 6, 13, 20, 27; April 13 is a Monday).
  EXPECT_EQ(firings("0 12 13 * 5", "2026-03-01T00:00:00Z", utc(), 8),
            (std::vector<std::string>{"2026-03-06T12:00:00.000Z", "2026-03-13T12:00:00.000Z",
                                      "2026-03-20T12:00:00.000Z", "2026-03-27T12:00:00.000Z",
                                      "2026-04-03T12:00:00.000Z", "2026-04-10T12:00:00.000Z",
                                      "2026-04-13T12:00:00.000Z", "2026-04-17T12:00:00.000Z"}));
  // One of them `*`: only the other counts.
  EXPECT_EQ(firings("0 12 13 * *", "2026-03-01T00:00:00Z", utc(), 2),
            (std::vector<std::string>{"2026-03-13T12:00:00.000Z", "2026-04-13T12:00:00.000Z"}));
  EXPECT_EQ(firings("0 12 * * 5", "2026-03-07T00:00:00Z", utc(), 2),
            (std::vector<std::string>{"2026-03-13T12:00:00.000Z", "2026-03-20T12:00:00.000Z"}));
  // crontab(5): a field with a `*` (here */2) is not restricted, so both must match: odd
  // days that are Fridays.
  EXPECT_EQ(firings("0 12 */2 * 5", "2026-03-01T00:00:00Z", utc(), 4),
            (std::vector<std::string>{"2026-03-13T12:00:00.000Z", "2026-03-27T12:00:00.000Z",
                                      "2026-04-03T12:00:00.000Z", "2026-04-17T12:00:00.000Z"}));
}

TEST(CronSchedule, MonthAndDayNamesInAnyCase) {
  // Weekdays of January and July: after Friday 2026-01-30 the next is Wednesday July 1.
  EXPECT_EQ(next("0 12 * JAN,jul MON-fri", "2026-01-02T12:00:00Z", utc()),
            "2026-01-05T12:00:00.000Z");
  EXPECT_EQ(next("0 12 * JAN,jul MON-fri", "2026-01-30T12:00:00Z", utc()),
            "2026-07-01T12:00:00.000Z");
  EXPECT_EQ(next("0 12 * Feb-Mar/1 Sat", "2026-01-01T00:00:00Z", utc()),
            "2026-02-07T12:00:00.000Z");
}

TEST(CronSchedule, SevenIsSundayToo) {
  for (const char* expr : {"0 8 * * 7", "0 8 * * 0", "0 8 * * SUN", "0 8 * * sun"}) {
    EXPECT_EQ(next(expr, "2026-03-27T00:00:00Z", utc()), "2026-03-29T08:00:00.000Z") << expr;
  }
  EXPECT_EQ(firings("0 8 * * 5-7", "2026-03-26T00:00:00Z", utc(), 4),
            (std::vector<std::string>{"2026-03-27T08:00:00.000Z", "2026-03-28T08:00:00.000Z",
                                      "2026-03-29T08:00:00.000Z", "2026-04-03T08:00:00.000Z"}));
}

TEST(CronSchedule, TextIsTheFieldsJoinedBySingleSpaces) {
  const auto s = CronSchedule::parse("  */15   9-17\t* *  MON-FRI ", nullptr);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->text(), "*/15 9-17 * * MON-FRI");
}

TEST(CronSchedule, EveryErrorNamesTheFieldAndTheReason) {
  EXPECT_EQ(parse_error("* * *"),
            "cron expression \"* * *\" has 3 fields; it needs 5: minute hour day-of-month month "
            "day-of-week");
  EXPECT_EQ(parse_error(""),
            "cron expression \"\" has 0 fields; it needs 5: minute hour day-of-month month "
            "day-of-week");
  EXPECT_EQ(parse_error("* * * * * *"),
            "cron expression \"* * * * * *\" has 6 fields; it needs 5: minute hour day-of-month "
            "month day-of-week");
  EXPECT_EQ(parse_error("0 25 * * *"), "cron field 2 (hour) \"25\": 25 is out of range 0-23");
  EXPECT_EQ(parse_error("60 * * * *"), "cron field 1 (minute) \"60\": 60 is out of range 0-59");
  EXPECT_EQ(parse_error("1,99999999999 * * * *"),
            "cron field 1 (minute) \"1,99999999999\": 99999999999 is out of range 0-59");
  EXPECT_EQ(parse_error("0 0 0 * *"), "cron field 3 (day-of-month) \"0\": 0 is out of range 1-31");
  EXPECT_EQ(parse_error("0 0 1 13 *"), "cron field 4 (month) \"13\": 13 is out of range 1-12");
  EXPECT_EQ(parse_error("0 0 * * 8"), "cron field 5 (day-of-week) \"8\": 8 is out of range 0-7");
  EXPECT_EQ(parse_error("*/0 * * * *"),
            "cron field 1 (minute) \"*/0\": step \"0\" is not a number from 1 to 60");
  EXPECT_EQ(parse_error("0 1-5/x * * *"),
            "cron field 2 (hour) \"1-5/x\": step \"x\" is not a number from 1 to 24");
  EXPECT_EQ(parse_error("0 0 1/99 * *"),
            "cron field 3 (day-of-month) \"1/99\": step \"99\" is not a number from 1 to 31");
  EXPECT_EQ(parse_error("5-1 * * * *"),
            "cron field 1 (minute) \"5-1\": range 5-1 is reversed; write the smaller end first");
  EXPECT_EQ(parse_error("0 0 * * MON-SUN"),
            "cron field 5 (day-of-week) \"MON-SUN\": range MON-SUN is reversed; write the "
            "smaller end first");
  EXPECT_EQ(parse_error("abc * * * *"), "cron field 1 (minute) \"abc\": \"abc\" is not a number");
  EXPECT_EQ(parse_error("? * * * *"), "cron field 1 (minute) \"?\": \"?\" is not a number");
  EXPECT_EQ(parse_error("0 0 * FOO *"),
            "cron field 4 (month) \"FOO\": \"FOO\" is not a number or a month name (JAN-DEC)");
  EXPECT_EQ(parse_error("0 0 * * MONDAY"),
            "cron field 5 (day-of-week) \"MONDAY\": \"MONDAY\" is not a number or a day name "
            "(SUN-SAT)");
  EXPECT_EQ(parse_error("0 JAN * * *"), "cron field 2 (hour) \"JAN\": \"JAN\" is not a number");
  EXPECT_EQ(parse_error("1,,2 * * * *"),
            "cron field 1 (minute) \"1,,2\": an empty item in the list");
  EXPECT_EQ(parse_error("1, * * * *"), "cron field 1 (minute) \"1,\": an empty item in the list");
  EXPECT_EQ(parse_error("1- * * * *"), "cron field 1 (minute) \"1-\": a number is missing");
  EXPECT_EQ(parse_error("-1 * * * *"), "cron field 1 (minute) \"-1\": a number is missing");
  EXPECT_EQ(parse_error("1-2-3 * * * *"),
            "cron field 1 (minute) \"1-2-3\": \"2-3\" is not a number");
  EXPECT_EQ(parse_error("*/5/5 * * * *"),
            "cron field 1 (minute) \"*/5/5\": step \"5/5\" is not a number from 1 to 60");
  EXPECT_EQ(parse_error("** * * * *"), "cron field 1 (minute) \"**\": \"**\" is not a number");
  EXPECT_FALSE(CronSchedule::parse("0 25 * * *", nullptr));  // no error wanted: still refused
}

// Local wall time at a UTC minute, read with the C library (not the code under test's calendar).
struct tm local_time(const TimeZone& tz, int64_t utc_minute) {
  const time_t local = static_cast<time_t>(utc_minute * 60 + tz.offset_seconds_at(utc_minute * 60));
  struct tm out {};
  gmtime_r(&local, &out);
  return out;
}

// next_after, chained, against a walk over every minute of two windows around the 2026 DST
// changes (both hemispheres, a change at local midnight, :30 and :45 offsets): the same
// minutes, strictly increasing, each matching when read back as local time.
TEST(CronSchedule, AgreesWithAMinuteByMinuteWalkAcrossDst) {
  struct Case {
    const char* expr;
    std::function<bool(const struct tm&)> matches;
  };
  const std::vector<Case> cases = {
      {"*/15 9-17 * * 1-5",
       [](const struct tm& t) {
         return t.tm_min % 15 == 0 && t.tm_hour >= 9 && t.tm_hour <= 17 && t.tm_wday >= 1 &&
                t.tm_wday <= 5;
       }},
      {"30 2 * * *", [](const struct tm& t) { return t.tm_min == 30 && t.tm_hour == 2; }},
      {"* 2 * * *", [](const struct tm& t) { return t.tm_hour == 2; }},
      {"0,30 0-3,23 * * *",
       [](const struct tm& t) {
         return (t.tm_min == 0 || t.tm_min == 30) && (t.tm_hour <= 3 || t.tm_hour == 23);
       }},
      {"45 1 13 * 5",
       [](const struct tm& t) {
         return t.tm_min == 45 && t.tm_hour == 1 && (t.tm_mday == 13 || t.tm_wday == 5);
       }},
      {"0 0 * * 0",
       [](const struct tm& t) { return t.tm_min == 0 && t.tm_hour == 0 && t.tm_wday == 0; }},
  };
  const char* zones[] = {"UTC",          "Europe/Berlin",   "America/New_York",
                         "Asia/Kolkata", "Asia/Kathmandu",  "Australia/Lord_Howe",
                         "America/Nuuk", "Australia/Eucla", "America/St_Johns"};
  const std::pair<const char*, const char*> windows[] = {
      {"2026-03-05T00:00:00Z", "2026-04-08T00:00:00Z"},
      {"2026-09-30T00:00:00Z", "2026-11-03T00:00:00Z"}};
  for (const char* zone_name : zones) {
    LOAD_SYSTEM_ZONE(zone, zone_name);
    for (const auto& c : cases) {
      const auto schedule = CronSchedule::parse(c.expr, nullptr);
      ASSERT_TRUE(schedule) << c.expr;
      for (const auto& [from, to] : windows) {
        const int64_t start_ms = util::parse_iso8601_ms(from);
        const int64_t end_ms = util::parse_iso8601_ms(to);
        std::vector<int64_t> walked;
        for (int64_t m = start_ms / 60000 + 1; m * 60000 <= end_ms; ++m) {
          if (c.matches(local_time(*zone, m))) walked.push_back(m * 60000);
        }
        std::vector<int64_t> chained;
        for (auto at = schedule->next_after(start_ms, *zone); at && *at <= end_ms;
             at = schedule->next_after(*at, *zone)) {
          ASSERT_TRUE(chained.empty() || *at > chained.back()) << c.expr << " in " << zone_name;
          EXPECT_TRUE(c.matches(local_time(*zone, *at / 60000)))
              << c.expr << " in " << zone_name << " at " << util::iso8601(*at);
          chained.push_back(*at);
        }
        EXPECT_FALSE(walked.empty()) << c.expr << " in " << zone_name;
        EXPECT_EQ(chained, walked) << c.expr << " in " << zone_name << " from " << from;
      }
    }
  }
}

}  // namespace
}  // namespace vespid::workflows
