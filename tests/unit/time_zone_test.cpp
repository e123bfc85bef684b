// runtime/time_zone: the system's tzdata read right (UTC offsets at known instants, before, in and
// past a file's transition table), POSIX TZ footer rules in every form on synthetic TZif files
// in a private TZDIR, and names or files that are not time zones refused with a reason.
#include "runtime/time_zone.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/time.hpp"
#include "skip_or_fail.hpp"
#include "temp_dir.hpp"

namespace vespid::util {
namespace {

int64_t at(const char* iso) {
  return parse_iso8601_ms(iso) / 1000;
}

// The system's zone; a skip (a failure under CI) where tzdata is not installed.
#define LOAD_SYSTEM_ZONE(var, zone_name)                    \
  std::string var##_error;                                  \
  const auto var = TimeZone::load(zone_name, &var##_error); \
  if (!var) VESPID_SKIP_UNLESS_CI(zone_name << " cannot be loaded: " << var##_error);

// A TZif version 2 file as RFC 8536 lays it out: a minimal version 1 block (one type, no
// transitions: version 2 readers skip it), the version 2 block, the footer line.
std::string tzif(const std::vector<std::pair<int64_t, uint8_t>>& transitions,
                 const std::vector<std::pair<int32_t, bool>>& types, const std::string& footer,
                 uint32_t leap_count = 0) {
  std::string out;
  auto u32 = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>(v >> shift & 0xff);
  };
  auto header = [&](uint32_t time_count, uint32_t type_count, uint32_t leaps) {
    out += "TZif2";
    out += std::string(15, '\0');
    for (uint32_t count : {0u, 0u, leaps, time_count, type_count, 4u}) u32(count);
  };
  header(0, 1, 0);
  u32(0);
  out += std::string("\0\0UTC\0", 6);
  header(static_cast<uint32_t>(transitions.size()), static_cast<uint32_t>(types.size()),
         leap_count);
  for (const auto& [time, type] : transitions) {
    u32(static_cast<uint32_t>(static_cast<uint64_t>(time) >> 32));
    u32(static_cast<uint32_t>(time));
  }
  for (const auto& [time, type] : transitions) out += static_cast<char>(type);
  for (const auto& [offset, dst] : types) {
    u32(static_cast<uint32_t>(offset));
    out += static_cast<char>(dst ? 1 : 0);
    out += '\0';
  }
  out += std::string("ABC\0", 4);
  out += std::string(leap_count * 12, '\0');
  return out + "\n" + footer + "\n";
}

// TZDIR points at a private directory for the test, and is put back afterwards.
class PrivateZones : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* old = std::getenv("TZDIR")) saved_ = old;
    ::setenv("TZDIR", dir_.path().c_str(), 1);
  }
  void TearDown() override {
    if (saved_) {
      ::setenv("TZDIR", saved_->c_str(), 1);
    } else {
      ::unsetenv("TZDIR");
    }
  }

  void write(const std::string& name, const std::string& bytes) {
    const std::filesystem::path path = dir_.file(name);
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
  }

  // A zone whose file lists no transitions, so its footer rule holds at every instant.
  std::optional<TimeZone> footer_zone(const std::string& footer) {
    write("Test/Footer", tzif({}, {{0, false}}, footer));
    return TimeZone::load("Test/Footer", &error_);
  }

  test::TempDir dir_{"vespid-tz"};
  std::optional<std::string> saved_;
  std::string error_;
};

TEST_F(PrivateZones, UtcIsBuiltInAndNeedsNoDatabase) {
  for (const char* name : {"UTC", "Etc/UTC"}) {
    const auto utc = TimeZone::load(name, &error_);
    ASSERT_TRUE(utc) << error_;
    EXPECT_EQ(utc->name(), name);
    for (int64_t t : {int64_t{0}, at("2026-07-15T12:00:00Z"), int64_t{-5000000000}})
      EXPECT_EQ(utc->offset_seconds_at(t), 0);
  }
  EXPECT_FALSE(TimeZone::load("Europe/Berlin", &error_));
  EXPECT_EQ(error_,
            "unknown time zone \"Europe/Berlin\"; names are IANA zones such as Europe/Berlin or "
            "America/New_York");
  ::setenv("TZDIR", dir_.file("missing").c_str(), 1);
  EXPECT_FALSE(TimeZone::load("Europe/Berlin", &error_));
  EXPECT_NE(error_.find("there is no time zone database at " + dir_.file("missing")),
            std::string::npos)
      << error_;
}

TEST(SystemZones, EuropeBerlinInTheTableAndPastIt) {
  LOAD_SYSTEM_ZONE(berlin, "Europe/Berlin");
  EXPECT_EQ(berlin->name(), "Europe/Berlin");
  EXPECT_EQ(berlin->offset_seconds_at(at("2026-01-15T12:00:00Z")), 3600);
  EXPECT_EQ(berlin->offset_seconds_at(at("2026-07-15T12:00:00Z")), 7200);
  // Debian's file lists transitions up to 2037; 2045 comes from its footer rule
  // CET-1CEST,M3.5.0,M10.5.0/3: from the last Sunday of March 01:00Z to the last of October.
  EXPECT_EQ(berlin->offset_seconds_at(at("2045-07-15T12:00:00Z")), 7200);
  EXPECT_EQ(berlin->offset_seconds_at(at("2045-01-15T12:00:00Z")), 3600);
  EXPECT_EQ(berlin->offset_seconds_at(at("2045-03-26T00:59:59Z")), 3600);
  EXPECT_EQ(berlin->offset_seconds_at(at("2045-03-26T01:00:00Z")), 7200);
  EXPECT_EQ(berlin->offset_seconds_at(at("2045-10-29T00:59:59Z")), 7200);
  EXPECT_EQ(berlin->offset_seconds_at(at("2045-10-29T01:00:00Z")), 3600);
  // Before the first transition (1893): local mean time, +0:53:28.
  EXPECT_EQ(berlin->offset_seconds_at(at("1850-01-01T00:00:00Z")), 53 * 60 + 28);
}

TEST(SystemZones, AmericaNewYorkAtItsSwitches) {
  LOAD_SYSTEM_ZONE(ny, "America/New_York");
  EXPECT_EQ(ny->offset_seconds_at(at("2026-03-08T06:59:59Z")), -5 * 3600);
  EXPECT_EQ(ny->offset_seconds_at(at("2026-03-08T07:00:00Z")), -4 * 3600);
  EXPECT_EQ(ny->offset_seconds_at(at("2026-11-01T05:59:59Z")), -4 * 3600);
  EXPECT_EQ(ny->offset_seconds_at(at("2026-11-01T06:00:00Z")), -5 * 3600);
  EXPECT_EQ(ny->offset_seconds_at(at("2050-03-13T07:00:00Z")), -4 * 3600);  // footer rule
  EXPECT_EQ(ny->offset_seconds_at(at("2050-03-13T06:59:59Z")), -5 * 3600);
}

TEST(SystemZones, AsiaKolkataAtHalfAnHour) {
  LOAD_SYSTEM_ZONE(kolkata, "Asia/Kolkata");
  EXPECT_EQ(kolkata->offset_seconds_at(at("2026-01-15T12:00:00Z")), 19800);
  EXPECT_EQ(kolkata->offset_seconds_at(at("2026-07-15T12:00:00Z")), 19800);
  EXPECT_EQ(kolkata->offset_seconds_at(at("2060-07-15T12:00:00Z")), 19800);
}

TEST(SystemZones, AustraliaLordHoweHasHalfAnHourOfDst) {
  LOAD_SYSTEM_ZONE(lord_howe, "Australia/Lord_Howe");
  EXPECT_EQ(lord_howe->offset_seconds_at(at("2026-01-15T12:00:00Z")), 11 * 3600);
  EXPECT_EQ(lord_howe->offset_seconds_at(at("2026-07-15T12:00:00Z")), 10 * 3600 + 1800);
  EXPECT_EQ(lord_howe->offset_seconds_at(at("2026-10-03T15:29:59Z")), 10 * 3600 + 1800);
  EXPECT_EQ(lord_howe->offset_seconds_at(at("2026-10-03T15:30:00Z")), 11 * 3600);
  EXPECT_EQ(lord_howe->offset_seconds_at(at("2045-01-15T12:00:00Z")), 11 * 3600);
  EXPECT_EQ(lord_howe->offset_seconds_at(at("2045-07-15T12:00:00Z")), 10 * 3600 + 1800);
}

TEST(SystemZones, BadNamesAreRefusedWithTheReason) {
  std::string error;
  EXPECT_FALSE(TimeZone::load("Europe/Berln", &error));
  EXPECT_EQ(error.substr(0, 25), "unknown time zone \"Europe");
  EXPECT_NE(error.find("names are IANA zones such as Europe/Berlin or America/New_York"),
            std::string::npos)
      << error;
  EXPECT_FALSE(TimeZone::load("Europe", &error));  // a directory of zones, not one
  EXPECT_NE(error.find("unknown time zone \"Europe\""), std::string::npos) << error;
  for (const char* bad : {"../etc/passwd", "Europe/../../etc/passwd", "/etc/passwd",
                          "Europe//Berlin", "Europe/Berlin/", "", "Europe/Berlin\n", "zone.tab",
                          "Europe/Berlin;ls", "Europe/Berlin "}) {
    error.clear();
    EXPECT_FALSE(TimeZone::load(bad, &error)) << bad;
    EXPECT_NE(error.find("is not an IANA name"), std::string::npos) << bad << ": " << error;
  }
  EXPECT_FALSE(TimeZone::load(std::string(101, 'A'), &error));
  EXPECT_EQ(error, "time zone name is longer than 100 characters");
  EXPECT_FALSE(TimeZone::load("Nowhere/At_All", nullptr));  // no error wanted: still refused
}

TEST_F(PrivateZones, FilesThatAreNotUsableTzifAreRefused) {
  write("Text/Zone", "Europe/Berlin\n");
  EXPECT_FALSE(TimeZone::load("Text/Zone", &error_));
  EXPECT_EQ(error_, "time zone \"Text/Zone\": " + dir_.file("Text/Zone") + " is not a TZif file");

  std::string v1 = tzif({}, {{0, false}}, "UTC0");
  v1[4] = '\0';
  write("Old", v1);
  EXPECT_FALSE(TimeZone::load("Old", &error_));
  EXPECT_NE(error_.find("is TZif version 1"), std::string::npos) << error_;

  const std::string whole = tzif({{1000, 0}, {2000, 1}}, {{0, false}, {3600, true}}, "UTC0");
  write("Short", whole.substr(0, whole.size() - 30));
  EXPECT_FALSE(TimeZone::load("Short", &error_));
  EXPECT_NE(error_.find("is damaged"), std::string::npos) << error_;

  write("Backwards", tzif({{2000, 0}, {1000, 1}}, {{0, false}, {3600, true}}, "UTC0"));
  EXPECT_FALSE(TimeZone::load("Backwards", &error_));
  EXPECT_NE(error_.find("out of order"), std::string::npos) << error_;

  write("Leaps", tzif({}, {{0, false}}, "UTC0", 1));
  EXPECT_FALSE(TimeZone::load("Leaps", &error_));
  EXPECT_NE(error_.find("leap seconds"), std::string::npos) << error_;

  for (const char* footer : {"CET", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0",
                             "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.0/168,M10.5.0",
                             "CET-1CEST,J0,J300", "CET-1CEST,366,300", "<>-1", "CET-1 "}) {
    EXPECT_FALSE(footer_zone(footer)) << footer;
    EXPECT_NE(error_.find("has a TZ rule this reader does not understand"), std::string::npos)
        << footer << ": " << error_;
  }
}

TEST_F(PrivateZones, TableThenFooter) {
  // Before the first transition the first standard-time type holds (type 1 here, not type 0);
  // the table from the first transition to the last; then the footer.
  write("Mixed", tzif({{1000, 1}, {2000, 0}, {3000, 1}}, {{7200, true}, {3600, false}}, "XXX-5"));
  auto zone = TimeZone::load("Mixed", &error_);
  ASSERT_TRUE(zone) << error_;
  EXPECT_EQ(zone->offset_seconds_at(999), 3600);
  EXPECT_EQ(zone->offset_seconds_at(1000), 3600);
  EXPECT_EQ(zone->offset_seconds_at(2000), 7200);
  EXPECT_EQ(zone->offset_seconds_at(2999), 7200);
  EXPECT_EQ(zone->offset_seconds_at(3000), 3600);
  EXPECT_EQ(zone->offset_seconds_at(3001), 5 * 3600);

  // No footer rule: the last offset holds for ever.
  write("NoRule", tzif({{1000, 1}, {2000, 0}}, {{3600, false}, {7200, true}}, ""));
  zone = TimeZone::load("NoRule", &error_);
  ASSERT_TRUE(zone) << error_;
  EXPECT_EQ(zone->offset_seconds_at(0), 3600);
  EXPECT_EQ(zone->offset_seconds_at(1500), 7200);
  EXPECT_EQ(zone->offset_seconds_at(at("2090-01-01T00:00:00Z")), 3600);
}

TEST_F(PrivateZones, StandardTimeOnlyFooters) {
  const std::vector<std::pair<std::string, int64_t>> cases = {
      {"UTC0", 0},
      {"JST-9", 9 * 3600},
      {"<+0330>-3:30", 12600},
      {"<-0330>3:30", -12600},
      {"<+0545>-5:45", 20700},
      {"XXX+3:00:30", -10830},
  };
  for (const auto& [footer, offset] : cases) {
    const auto zone = footer_zone(footer);
    ASSERT_TRUE(zone) << footer << ": " << error_;
    EXPECT_EQ(zone->offset_seconds_at(at("2026-01-15T12:00:00Z")), offset) << footer;
    EXPECT_EQ(zone->offset_seconds_at(at("2026-07-15T12:00:00Z")), offset) << footer;
  }
}

TEST_F(PrivateZones, MonthWeekDayRules) {
  auto zone = footer_zone("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(zone) << error_;
  EXPECT_EQ(zone->offset_seconds_at(at("2026-03-08T06:59:59Z")), -5 * 3600);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-03-08T07:00:00Z")), -4 * 3600);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-11-01T05:59:59Z")), -4 * 3600);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-11-01T06:00:00Z")), -5 * 3600);

  // Week 5 is the last such day: March 2026 has four Sundays after the 1st... and the 29th.
  zone = footer_zone("CET-1CEST,M3.5.0,M10.5.0/3");
  ASSERT_TRUE(zone) << error_;
  EXPECT_EQ(zone->offset_seconds_at(at("2026-03-29T00:59:59Z")), 3600);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-03-29T01:00:00Z")), 7200);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-10-25T00:59:59Z")), 7200);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-10-25T01:00:00Z")), 3600);

  // Without dates POSIX leaves the rule to the implementation: the US one, as tzcode's.
  zone = footer_zone("EST5EDT");
  ASSERT_TRUE(zone) << error_;
  EXPECT_EQ(zone->offset_seconds_at(at("2026-07-01T12:00:00Z")), -4 * 3600);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-12-01T12:00:00Z")), -5 * 3600);
}

TEST_F(PrivateZones, JulianDayRules) {
  // Jn counts 1-365 and never Feb 29: J60 is March 1 in every year, J300 October 27.
  auto zone = footer_zone("AAA-1BBB,J60,J300");
  ASSERT_TRUE(zone) << error_;
  for (const char* y : {"2027", "2028"}) {
    const std::string year = y;
    EXPECT_EQ(zone->offset_seconds_at(at((year + "-03-01T00:59:59Z").c_str())), 3600) << y;
    EXPECT_EQ(zone->offset_seconds_at(at((year + "-03-01T01:00:00Z").c_str())), 7200) << y;
    EXPECT_EQ(zone->offset_seconds_at(at((year + "-10-26T23:59:59Z").c_str())), 7200) << y;
    EXPECT_EQ(zone->offset_seconds_at(at((year + "-10-27T00:00:00Z").c_str())), 3600) << y;
  }
  // n counts 0-365 and counts Feb 29: day 59 is March 1, or Feb 29 in a leap year.
  zone = footer_zone("AAA-1BBB,59,299");
  ASSERT_TRUE(zone) << error_;
  EXPECT_EQ(zone->offset_seconds_at(at("2027-02-28T12:00:00Z")), 3600);
  EXPECT_EQ(zone->offset_seconds_at(at("2027-03-01T01:00:00Z")), 7200);
  EXPECT_EQ(zone->offset_seconds_at(at("2028-02-29T00:59:59Z")), 3600);
  EXPECT_EQ(zone->offset_seconds_at(at("2028-02-29T01:00:00Z")), 7200);
  EXPECT_EQ(zone->offset_seconds_at(at("2027-10-26T23:59:59Z")), 7200);
  EXPECT_EQ(zone->offset_seconds_at(at("2027-10-27T00:00:00Z")), 3600);
  EXPECT_EQ(zone->offset_seconds_at(at("2028-10-25T23:59:59Z")), 7200);
  EXPECT_EQ(zone->offset_seconds_at(at("2028-10-26T00:00:00Z")), 3600);
}

TEST_F(PrivateZones, RuleTimesBelowZeroAndBeyondADay) {
  // America/Nuuk's: DST starts at -1:00 on the last Sunday of March, i.e. 23:00 the Saturday.
  auto zone = footer_zone("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
  ASSERT_TRUE(zone) << error_;
  EXPECT_EQ(zone->offset_seconds_at(at("2026-03-29T00:59:59Z")), -7200);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-03-29T01:00:00Z")), -3600);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-10-25T00:59:59Z")), -3600);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-10-25T01:00:00Z")), -7200);

  // TZif v3 allows times up to 167 hours: 26:00 on Sunday is 02:00 on Monday.
  zone = footer_zone("AAA0BBB-1,M3.5.0/26,M10.5.0/+27:30");
  ASSERT_TRUE(zone) << error_;
  EXPECT_EQ(zone->offset_seconds_at(at("2026-03-30T01:59:59Z")), 0);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-03-30T02:00:00Z")), 3600);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-10-26T02:29:59Z")), 3600);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-10-26T02:30:00Z")), 0);

  // DST all year, as tzdata writes it: starts at the year's first instant, ends after its last.
  zone = footer_zone("EST5EDT,0/0,J365/25");
  ASSERT_TRUE(zone) << error_;
  for (const char* t : {"2026-01-01T05:00:00Z", "2026-06-15T12:00:00Z", "2026-12-31T23:00:00Z",
                        "2027-01-01T04:30:00Z", "2027-01-01T05:00:00Z"})
    EXPECT_EQ(zone->offset_seconds_at(at(t)), -4 * 3600) << t;
}

TEST_F(PrivateZones, SouthernHemisphereDstSpansTheNewYear) {
  // Australia/Lord_Howe's: +11 from the first Sunday of October to the first of April.
  auto zone = footer_zone("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
  ASSERT_TRUE(zone) << error_;
  EXPECT_EQ(zone->offset_seconds_at(at("2026-01-15T12:00:00Z")), 39600);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-04-04T14:59:59Z")), 39600);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-04-04T15:00:00Z")), 37800);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-07-15T12:00:00Z")), 37800);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-10-03T15:29:59Z")), 37800);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-10-03T15:30:00Z")), 39600);
  EXPECT_EQ(zone->offset_seconds_at(at("2026-12-31T23:59:59Z")), 39600);
  EXPECT_EQ(zone->offset_seconds_at(at("2027-01-01T00:00:00Z")), 39600);
}

TEST_F(PrivateZones, CopiesShareOneImmutableZone) {
  auto zone = footer_zone("CET-1CEST,M3.5.0,M10.5.0/3");
  ASSERT_TRUE(zone) << error_;
  const TimeZone copy = *zone;
  zone.reset();
  EXPECT_EQ(copy.name(), "Test/Footer");
  EXPECT_EQ(copy.offset_seconds_at(at("2026-07-15T12:00:00Z")), 7200);
}

}  // namespace
}  // namespace vespid::util
