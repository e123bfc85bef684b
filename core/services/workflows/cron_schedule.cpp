#include "services/workflows/cron_schedule.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <chrono>
#include <string_view>
#include <vector>

namespace vespid::workflows {

namespace {

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED",
                                                       "THU", "FRI", "SAT"};

struct Field {
  std::string_view name;
  int min;
  int max;   // the largest value that may be written
  int last;  // where `*` and `n/step` end: max, except day-of-week's 7 is only Sunday's alias
  const std::string_view* names;  // names[i] is the value min + i
  size_t name_count;
  std::string_view names_hint;
};

constexpr std::array<Field, 5> kFields = {{
    {"minute", 0, 59, 59, nullptr, 0, ""},
    {"hour", 0, 23, 23, nullptr, 0, ""},
    {"day-of-month", 1, 31, 31, nullptr, 0, ""},
    {"month", 1, 12, 12, kMonthNames.data(), kMonthNames.size(), "a month name (JAN-DEC)"},
    {"day-of-week", 0, 7, 6, kDayNames.data(), kDayNames.size(), "a day name (SUN-SAT)"},
}};

// Five years of minutes, leap days included: the search gives up after that.
constexpr int64_t kSearchMinutes = int64_t{5} * 366 * 1440;
// next_after answers for instants in years 1 to 9999; the calendar arithmetic is exact there.
constexpr int64_t kEarliestMs = -62135596800000;  // 0001-01-01T00:00:00Z
constexpr int64_t kLatestMs = 253402300799999;    // 9999-12-31T23:59:59.999Z

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// A run of digits as a number, capped at 1000 (beyond every field's range, and safe from
// overflow); nullopt for anything else.
std::optional<int> digits_value(std::string_view text) {
  if (text.empty() || text.find_first_not_of("0123456789") != text.npos) return std::nullopt;
  int v = 0;
  for (char ch : text) v = std::min(v * 10 + (ch - '0'), 1000);
  return v;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

// One value of a field: a number in range, or a name where the field has names.
std::optional<int> value_of(std::string_view text, const Field& f, std::string* why) {
  if (text.empty()) {
    *why = "a number is missing";
    return std::nullopt;
  }
  if (const auto v = digits_value(text)) {
    if (*v < f.min || *v > f.max) {
      *why = std::string(text) + " is out of range " + std::to_string(f.min) + "-" +
             std::to_string(f.max);
      return std::nullopt;
    }
    return *v;
  }
  for (size_t i = 0; i < f.name_count; ++i) {
    if (equals_ignoring_case(text, f.names[i])) return f.min + static_cast<int>(i);
  }
  // Appended piece by piece: GCC 12 at -O2 and above warns (-Wrestrict, a false positive)
  // about "literal" + std::string here.
  why->assign(1, '"');
  why->append(text);
  why->append("\" is not a number");
  if (f.name_count > 0) *why += " or " + std::string(f.names_hint);
  return std::nullopt;
}

// One item of a field's comma list: *, n, a-b, each with an optional /step.
bool add_item(std::string_view item, const Field& f, uint64_t* bits, std::string* why) {
  if (item.empty()) {
    *why = "an empty item in the list";
    return false;
  }
  const size_t slash = item.find('/');
  const std::string_view base = item.substr(0, slash);
  int step = 1;
  if (slash != item.npos) {
    const std::string_view step_text = item.substr(slash + 1);
    const int most = f.last - f.min + 1;
    const auto v = digits_value(step_text);
    if (!v || *v < 1 || *v > most) {
      *why = "step \"" + std::string(step_text) + "\" is not a number from 1 to " +
             std::to_string(most);
      return false;
    }
    step = *v;
  }
  int lo = f.min;
  int hi = f.last;
  if (base != "*") {
    const size_t dash = base.find('-');
    const auto first = value_of(base.substr(0, dash), f, why);
    if (!first) return false;
    lo = *first;
    hi = slash != item.npos ? std::max(lo, f.last) : lo;  // n/step: from n to the end
    if (dash != base.npos) {
      const auto second = value_of(base.substr(dash + 1), f, why);
      if (!second) return false;
      hi = *second;
      if (hi < lo) {
        *why = "range " + std::string(base) + " is reversed; write the smaller end first";
        return false;
      }
    }
  }
  for (int v = lo; v <= hi; v += step) *bits |= uint64_t{1} << v;
  return true;
}

std::optional<uint64_t> parse_field(std::string_view text, const Field& f, std::string* why) {
  uint64_t bits = 0;
  size_t from = 0;
  while (true) {
    const size_t comma = text.find(',', from);
    if (!add_item(text.substr(from, comma - from), f, &bits, why)) return std::nullopt;
    if (comma == text.npos) return bits;
    from = comma + 1;
  }
}

std::vector<std::string> split_fields(const std::string& expr) {
  std::vector<std::string> fields;
  std::string cur;
  for (char ch : expr) {
    if (std::isspace(static_cast<unsigned char>(ch))) {
      if (!cur.empty()) fields.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) fields.push_back(std::move(cur));
  return fields;
}

// Where to look next when nothing can match before local minute `target` (minutes since the
// epoch): the UTC minute at which the local clock reaches `target` if `offset` still holds then.
// If the offset changes first, the first minute of the new offset instead, to be read afresh: a
// jump computed with the old offset could step over wall times that the new one brings. The
// change is found by halving, which assumes one change within a skip (a day at most); tzdata's
// rules never change a zone's offset twice within a day.
int64_t advance(const util::TimeZone& tz, int64_t t, int64_t offset, int64_t target) {
  const int64_t u = -floor_div(offset - target * 60, 60);  // ceil((target * 60 - offset) / 60)
  if (tz.offset_seconds_at(u * 60) == offset) return u;
  int64_t same = t;     // the offset is still `offset` here
  int64_t changed = u;  // and no longer here
  while (changed - same > 1) {
    const int64_t mid = same + (changed - same) / 2;
    if (tz.offset_seconds_at(mid * 60) == offset) {
      same = mid;
    } else {
      changed = mid;
    }
  }
  return changed;
}

}  // namespace

std::optional<CronSchedule> CronSchedule::parse(const std::string& expr, std::string* error) {
  const std::vector<std::string> fields = split_fields(expr);
  if (fields.size() != kFields.size()) {
    if (error != nullptr) {
      *error = "cron expression \"" + expr + "\" has " + std::to_string(fields.size()) +
               " fields; it needs 5: minute hour day-of-month month day-of-week";
    }
    return std::nullopt;
  }
  std::array<uint64_t, 5> bits{};
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string why;
    const auto parsed = parse_field(fields[i], kFields[i], &why);
    if (!parsed) {
      if (error != nullptr) {
        *error = "cron field " + std::to_string(i + 1) + " (" + std::string(kFields[i].name) +
                 ") \"" + fields[i] + "\": " + why;
      }
      return std::nullopt;
    }
    bits[i] = *parsed;
  }
  CronSchedule s;
  for (const auto& f : fields) s.text_ += (s.text_.empty() ? "" : " ") + f;
  s.minutes_ = bits[0];
  s.hours_ = static_cast<uint32_t>(bits[1]);
  s.days_ = static_cast<uint32_t>(bits[2]);
  s.months_ = static_cast<uint32_t>(bits[3]);
  // 7 is Sunday too: fold it onto 0.
  s.weekdays_ = static_cast<uint32_t>((bits[4] | (bits[4] >> 7)) & 0x7f);
  // crontab(5): a day field is restricted when it has no `*` (so `*/2` is not).
  s.days_restricted_ = fields[2].find('*') == std::string::npos;
  s.weekdays_restricted_ = fields[4].find('*') == std::string::npos;
  return s;
}

bool CronSchedule::day_matches(unsigned day_of_month, unsigned month, unsigned weekday) const {
  if ((months_ >> month & 1) == 0) return false;
  const bool by_day = (days_ >> day_of_month & 1) != 0;
  const bool by_weekday = (weekdays_ >> weekday & 1) != 0;
  if (days_restricted_ && weekdays_restricted_) return by_day || by_weekday;
  return by_day && by_weekday;
}

std::optional<int64_t> CronSchedule::next_after(int64_t after_ms, const util::TimeZone& tz) const {
  using namespace std::chrono;
  if (after_ms < kEarliestMs || after_ms > kLatestMs) return std::nullopt;
  // Walk real instants, one UTC minute at a time in principle, reading each as local time; the
  // skips below jump over minutes that cannot match without changing what is found.
  int64_t t = floor_div(after_ms, 60000) + 1;
  const int64_t give_up = t + kSearchMinutes;
  while (t <= give_up) {
    const int64_t offset = tz.offset_seconds_at(t * 60);
    const int64_t local = floor_div(t * 60 + offset, 60);  // local minutes since the epoch
    const int64_t day = floor_div(local, 1440);
    const sys_days date{days{day}};
    const year_month_day ymd{date};
    if (!day_matches(static_cast<unsigned>(ymd.day()), static_cast<unsigned>(ymd.month()),
                     weekday{date}.c_encoding())) {
      t = advance(tz, t, offset, (day + 1) * 1440);  // the next local midnight
      continue;
    }
    const int hour = static_cast<int>((local - day * 1440) / 60);
    const int minute = static_cast<int>((local - day * 1440) % 60);
    if ((hours_ >> hour & 1) != 0) {
      const uint64_t later = minutes_ >> minute << minute;  // this hour's minutes from now on
      if ((later >> minute & 1) != 0) return t * 60000;
      if (later != 0) {
        t = advance(tz, t, offset, day * 1440 + hour * 60 + std::countr_zero(later));
        continue;
      }
    }
    // The next wanted hour today, at its first wanted minute; else the next local midnight.
    const uint32_t later_hours = hour + 1 < 24 ? hours_ >> (hour + 1) << (hour + 1) : 0;
    const int64_t target = later_hours != 0 ? day * 1440 + std::countr_zero(later_hours) * 60 +
                                                  std::countr_zero(minutes_)
                                            : (day + 1) * 1440;
    t = advance(tz, t, offset, target);
  }
  return std::nullopt;
}

}  // namespace vespid::workflows
