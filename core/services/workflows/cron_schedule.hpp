// Cron expressions of workflow cron triggers (trigger.cron), and when they next fire in a time
// zone. Pure: the scheduler that starts runs asks next_after and sleeps until then.
//
// Five fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or JAN-DEC)
// day-of-week (0-7, 0 and 7 Sunday, or SUN-SAT). Each is a comma list of `*`, `n`, `a-b`, with
// an optional `/step` on `*` or a range; `n/step` means n to the field's end by step. Names are
// case-insensitive. The day rule is crontab(5)'s: when day-of-month and day-of-week are both
// restricted (neither contains `*`), a day matching either fires; otherwise both must match, so
// a `*` in one leaves only the other to count.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/time_zone.hpp"

namespace vespid::workflows {

class CronSchedule {
 public:
  // nullopt on a malformed expression; *error (when given) names the field and what is wrong:
  //   cron field 2 (hour) "25": 25 is out of range 0-23
  static std::optional<CronSchedule> parse(const std::string& expr, std::string* error);

  // The first whole minute strictly after after_ms (epoch ms, UTC) whose wall time in tz
  // matches, in epoch ms; nullopt when none comes within 5 years (`0 0 31 2 *` never does).
  //
  // DST: the real instants are walked in order and each is read as local time. A wall time that
  // a spring-forward gap skips does not exist that day, so it does not fire (no catching up
  // later); a wall time that an autumn fall-back repeats exists twice, so it fires twice.
  // Days and hours that cannot match are skipped whole, so a search costs a few thousand
  // offset lookups at most. Also nullopt for after_ms outside the years 1 to 9999.
  std::optional<int64_t> next_after(int64_t after_ms, const util::TimeZone& tz) const;

  // The expression, its fields joined by single spaces.
  std::string text() const { return text_; }

 private:
  CronSchedule() = default;
  bool day_matches(unsigned day_of_month, unsigned month, unsigned weekday) const;

  std::string text_;
  uint64_t minutes_ = 0;  // bit n: minute n
  uint32_t hours_ = 0;
  uint32_t days_ = 0;      // bit n: day n of the month, 1-31
  uint32_t months_ = 0;    // bit n: month n, 1-12
  uint32_t weekdays_ = 0;  // bit n: n days after Sunday, 0-6 (a written 7 is Sunday's bit 0)
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

}  // namespace vespid::workflows
