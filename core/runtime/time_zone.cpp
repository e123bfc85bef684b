// Reads TZif files as RFC 8536 describes them: a version 1 block (32-bit times, skipped), a
// version 2+ block (64-bit times, used) and a footer holding a POSIX TZ string for the instants
// after the last transition. Debian's tzdata is "fat" (transitions listed up to 2037), but a
// "slim" file stops at the zone's last rule change, so the footer rule is not an afterthought.
#include "runtime/time_zone.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>
#include <utility>
#include <vector>

namespace vespid::util {

struct TimeZone::Data {
  // A day of a year and a local time on it, as a POSIX TZ string writes a DST change.
  struct RuleDate {
    enum class Kind { kJulian1, kZeroBased, kMonthWeekDay };  // Jn, n, Mm.w.d
    Kind kind = Kind::kMonthWeekDay;
    int day = 0;  // Jn: 1-365, Feb 29 never counted; n: 0-365, Feb 29 counted; Mm.w.d: d
    int month = 0;
    int week = 0;             // 1-5; 5 is the last such weekday of the month
    int64_t time = 2 * 3600;  // seconds after the local midnight; TZif v3 allows -167h to 167h
  };
  // Offsets are seconds east of UTC here; POSIX writes them west ("CET-1" is UTC+1).
  struct Rule {
    int64_t std_offset = 0;
    bool has_dst = false;
    int64_t dst_offset = 0;
    RuleDate dst_start;  // read in standard time
    RuleDate dst_end;    // read in daylight time
  };

  std::string name;
  std::vector<int64_t> transitions;    // UTC seconds, strictly ascending
  std::vector<int32_t> offsets_after;  // offsets_after[i] holds from transitions[i] on
  int64_t offset_before_first = 0;     // before transitions[0]; always, if none and no rule
  std::optional<Rule> rule;            // after the last transition; none: the last offset holds
};

namespace {

using Data = TimeZone::Data;
using RuleDate = Data::RuleDate;
using Rule = Data::Rule;

constexpr size_t kMaxNameLength = 100;
constexpr size_t kMaxFileBytes = 1 << 20;  // tzdata's largest file is a few KiB
constexpr size_t kHeaderBytes = 44;        // "TZif", version, 15 unused, six 32-bit counts
// std::chrono::year stops at 32767; instants are clamped well inside it (±17,000 years).
constexpr int64_t kClampSeconds = int64_t{1} << 39;

// A POSIX TZ string: std offset [dst [offset] [,start[/time],end[/time]]], names plain letters
// or <quoted>, offsets and times [+-]hh[:mm[:ss]].
class RuleParser {
 public:
  explicit RuleParser(std::string_view text) : s_(text) {}

  std::optional<Rule> parse() {
    Rule rule;
    const auto std_west = name() ? hms(24) : std::nullopt;
    if (!std_west) return std::nullopt;
    rule.std_offset = -*std_west;
    if (done()) return rule;  // standard time all year
    if (!name()) return std::nullopt;
    rule.has_dst = true;
    rule.dst_offset = rule.std_offset + 3600;  // POSIX: one hour ahead unless written
    if (!done() && s_[at_] != ',') {
      const auto dst_west = hms(24);
      if (!dst_west) return std::nullopt;
      rule.dst_offset = -*dst_west;
    }
    if (done()) {
      // No dates: POSIX leaves them to the implementation; tzcode and glibc take the US rules.
      rule.dst_start = {RuleDate::Kind::kMonthWeekDay, 0, 3, 2, 2 * 3600};
      rule.dst_end = {RuleDate::Kind::kMonthWeekDay, 0, 11, 1, 2 * 3600};
      return rule;
    }
    const auto start = eat(',') ? date() : std::nullopt;
    const auto end = start && eat(',') ? date() : std::nullopt;
    if (!end || !done()) return std::nullopt;
    rule.dst_start = *start;
    rule.dst_end = *end;
    return rule;
  }

 private:
  bool done() const { return at_ == s_.size(); }
  bool eat(char c) {
    if (done() || s_[at_] != c) return false;
    ++at_;
    return true;
  }

  bool name() {
    const size_t from = at_;
    if (eat('<')) {
      while (!done() && s_[at_] != '>') ++at_;
      return at_ > from + 1 && eat('>');
    }
    while (!done() && std::isalpha(static_cast<unsigned char>(s_[at_]))) ++at_;
    return at_ > from;
  }

  std::optional<int> number(int min, int max) {
    int value = 0;
    const size_t from = at_;
    while (!done() && s_[at_] >= '0' && s_[at_] <= '9' && at_ - from < 4)
      value = value * 10 + (s_[at_++] - '0');
    if (at_ == from || value < min || value > max) return std::nullopt;
    return value;
  }

  // [+-]hh[:mm[:ss]] in seconds.
  std::optional<int64_t> hms(int max_hours) {
    int64_t sign = 1;
    if (eat('-')) {
      sign = -1;
    } else {
      eat('+');
    }
    const auto h = number(0, max_hours);
    if (!h) return std::nullopt;
    int64_t seconds = int64_t{*h} * 3600;
    for (int64_t unit : {60, 1}) {
      if (!eat(':')) break;
      const auto part = number(0, 59);
      if (!part) return std::nullopt;
      seconds += *part * unit;
    }
    return sign * seconds;
  }

  // Jn | n | Mm.w.d, then an optional /time.
  std::optional<RuleDate> date() {
    RuleDate d;
    if (eat('J')) {
      d.kind = RuleDate::Kind::kJulian1;
      const auto n = number(1, 365);
      if (!n) return std::nullopt;
      d.day = *n;
    } else if (eat('M')) {
      const auto m = number(1, 12);
      const auto w = m && eat('.') ? number(1, 5) : std::nullopt;
      const auto wd = w && eat('.') ? number(0, 6) : std::nullopt;
      if (!wd) return std::nullopt;
      d.month = *m;
      d.week = *w;
      d.day = *wd;
    } else {
      d.kind = RuleDate::Kind::kZeroBased;
      const auto n = number(0, 365);
      if (!n) return std::nullopt;
      d.day = *n;
    }
    if (eat('/')) {
      const auto t = hms(167);
      if (!t) return std::nullopt;
      d.time = *t;
    }
    return d;
  }

  std::string_view s_;
  size_t at_ = 0;
};

// The UTC instant at which `d` happens in year `y`, its time read on a clock `offset` seconds
// east of UTC.
int64_t instant_of(const RuleDate& d, int y, int64_t offset) {
  using namespace std::chrono;
  const year yr{y};
  sys_days day;
  switch (d.kind) {
    case RuleDate::Kind::kJulian1:
      day = sys_days{yr / January / 1} + days{d.day - 1 + (yr.is_leap() && d.day >= 60 ? 1 : 0)};
      break;
    case RuleDate::Kind::kZeroBased:
      day = sys_days{yr / January / 1} + days{d.day};
      break;
    case RuleDate::Kind::kMonthWeekDay: {
      const month m{static_cast<unsigned>(d.month)};
      const weekday wd{static_cast<unsigned>(d.day)};
      day = d.week == 5 ? sys_days{yr / m / wd[last]}
                        : sys_days{yr / m / wd[static_cast<unsigned>(d.week)]};
      break;
    }
  }
  return int64_t{day.time_since_epoch().count()} * 86400 + d.time - offset;
}

int64_t offset_by_rule(const Rule& rule, int64_t utc) {
  if (!rule.has_dst) return rule.std_offset;
  using namespace std::chrono;
  const int y = static_cast<int>(
      year_month_day{floor<days>(sys_seconds{seconds{utc + rule.std_offset}})}.year());
  // The changes of the year around `utc` and of the years either side, in order; the last one
  // at or before `utc` says which offset holds. The years either side cover rule times beyond
  // a day (up to a week in TZif v3) and the southern hemisphere, whose DST spans the new year.
  // On a tie an end sorts before a start, so "DST all year" strings (0/0,J365/25) stay DST.
  std::array<std::pair<int64_t, bool>, 6> changes;
  for (int i = 0; i < 3; ++i) {
    changes[2 * i] = {instant_of(rule.dst_start, y - 1 + i, rule.std_offset), true};
    changes[2 * i + 1] = {instant_of(rule.dst_end, y - 1 + i, rule.dst_offset), false};
  }
  std::sort(changes.begin(), changes.end());
  bool dst = changes.back().second;  // unreachable in practice: a year back always precedes
  for (const auto& [at, starts_dst] : changes) {
    if (at > utc) break;
    dst = starts_dst;
  }
  return dst ? rule.dst_offset : rule.std_offset;
}

uint32_t be32(std::string_view b, size_t at) {
  return (uint32_t{static_cast<uint8_t>(b[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(b[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(b[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(b[at + 3])};
}

int64_t be64(std::string_view b, size_t at) {
  return static_cast<int64_t>((uint64_t{be32(b, at)} << 32) | be32(b, at + 4));
}

struct Counts {
  size_t isut, isstd, leap, time, type, chars;
};

Counts counts_at(std::string_view file, size_t at) {
  return {be32(file, at + 20), be32(file, at + 24), be32(file, at + 28),
          be32(file, at + 32), be32(file, at + 36), be32(file, at + 40)};
}

// The data of a TZif file, or nullopt with *why saying what is wrong with it.
std::optional<Data> parse_tzif(std::string_view file, std::string* why) {
  if (file.size() < kHeaderBytes || file.substr(0, 4) != "TZif") {
    *why = "is not a TZif file";
    return std::nullopt;
  }
  if (file[4] < '2') {
    *why = "is TZif version 1; version 2 or later is needed (it has the 64-bit times)";
    return std::nullopt;
  }
  // Skip the version 1 block: its 32-bit times end in 2038.
  const Counts v1 = counts_at(file, 0);
  const size_t v2_at =
      kHeaderBytes + v1.time * 5 + v1.type * 6 + v1.chars + v1.leap * 8 + v1.isstd + v1.isut;
  if (file.size() < v2_at + kHeaderBytes || file.substr(v2_at, 4) != "TZif") {
    *why = "is damaged (no version 2 header where one belongs)";
    return std::nullopt;
  }
  const Counts c = counts_at(file, v2_at);
  const size_t data_at = v2_at + kHeaderBytes;
  const size_t footer_at =
      data_at + c.time * 9 + c.type * 6 + c.chars + c.leap * 12 + c.isstd + c.isut;
  if (file.size() < footer_at || c.type == 0) {
    *why = "is damaged (shorter than its header says)";
    return std::nullopt;
  }
  if (c.leap != 0) {
    // Its times count leap seconds (a "right/" zone): not the Unix time everything else uses.
    *why = "counts leap seconds; use the zone without the right/ prefix";
    return std::nullopt;
  }

  Data d;
  const size_t types_at = data_at + c.time * 9;
  std::vector<int32_t> type_offsets(c.type);
  std::optional<size_t> first_standard;
  for (size_t i = 0; i < c.type; ++i) {
    type_offsets[i] = static_cast<int32_t>(be32(file, types_at + i * 6));
    if (!first_standard && file[types_at + i * 6 + 4] == 0) first_standard = i;
  }
  for (size_t i = 0; i < c.time; ++i) {
    const int64_t at = be64(file, data_at + i * 8);
    const auto type = static_cast<uint8_t>(file[data_at + c.time * 8 + i]);
    if (type >= c.type || (i > 0 && at <= d.transitions.back())) {
      *why = "is damaged (a transition out of order or of an unknown type)";
      return std::nullopt;
    }
    d.transitions.push_back(at);
    d.offsets_after.push_back(type_offsets[type]);
  }
  // Before the first transition: the first standard-time type, else type 0 (the older reading;
  // RFC 8536 says type 0). tzdata writes the zone's LMT as type 0, and LMT is standard time, so
  // the two agree on its files; the older one also copes with files that put a DST type first.
  d.offset_before_first = type_offsets[first_standard.value_or(0)];

  // The footer: "\n" TZ-string "\n"; an empty string means no rule beyond the table.
  const std::string_view rest = file.substr(footer_at);
  const size_t close = rest.size() > 1 && rest[0] == '\n' ? rest.find('\n', 1) : rest.npos;
  if (close == rest.npos) {
    *why = "is damaged (no footer line after the version 2 data)";
    return std::nullopt;
  }
  const std::string_view tz = rest.substr(1, close - 1);
  if (!tz.empty()) {
    d.rule = RuleParser(tz).parse();
    if (!d.rule) {
      *why = "has a TZ rule this reader does not understand: \"" + std::string(tz) + "\"";
      return std::nullopt;
    }
  }
  return d;
}

// IANA names: parts of letters, digits, _, + and - joined by '/'. No '.', so never "..": a
// name cannot leave the zoneinfo directory or reach its non-zone files (zone.tab, tzdata.zi).
bool is_zone_name(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.back() == '/') return false;
  char prev = '/';
  for (char ch : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '+' ||
                    ch == '-' || (ch == '/' && prev != '/');
    if (!ok) return false;
    prev = ch;
  }
  return true;
}

bool read_small_file(const std::filesystem::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad() && out->size() <= kMaxFileBytes;
}

std::nullopt_t fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return std::nullopt;
}

}  // namespace

std::optional<TimeZone> TimeZone::load(const std::string& name, std::string* error) {
  if (name == "UTC" || name == "Etc/UTC") {
    auto d = std::make_shared<Data>();
    d->name = name;
    return TimeZone(std::move(d));
  }
  const std::string unknown = "unknown time zone \"" + name +
                              "\"; names are IANA zones such as Europe/Berlin or America/New_York";
  if (name.size() > kMaxNameLength) {
    return fail(error,
                "time zone name is longer than " + std::to_string(kMaxNameLength) + " characters");
  }
  if (!is_zone_name(name)) {
    return fail(error, "time zone name \"" + name +
                           "\" is not an IANA name: parts of letters, digits, _, + and - "
                           "separated by /, such as Europe/Berlin");
  }
  const char* tzdir = std::getenv("TZDIR");
  const std::filesystem::path dir =
      tzdir != nullptr && *tzdir != '\0' ? tzdir : "/usr/share/zoneinfo";
  const std::filesystem::path path = dir / name;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return fail(error, unknown + " (there is no time zone database at " + dir.string() +
                           ": install tzdata, or set TZDIR)");
  }
  std::string file;
  if (!std::filesystem::is_regular_file(path, ec) || !read_small_file(path, &file)) {
    return fail(error, unknown);
  }
  std::string why;
  auto parsed = parse_tzif(file, &why);
  if (!parsed) return fail(error, "time zone \"" + name + "\": " + path.string() + " " + why);
  parsed->name = name;
  return TimeZone(std::make_shared<const Data>(std::move(*parsed)));
}

const std::string& TimeZone::name() const {
  return data_->name;
}

int64_t TimeZone::offset_seconds_at(int64_t utc_seconds) const {
  const Data& d = *data_;
  const int64_t t = std::clamp(utc_seconds, -kClampSeconds, kClampSeconds);
  // RFC 8536: the footer rule covers the instants after the last transition, or all of them
  // when the file lists none; without a rule the last offset (or the only type) holds.
  if (d.transitions.empty()) return d.rule ? offset_by_rule(*d.rule, t) : d.offset_before_first;
  if (t < d.transitions.front()) return d.offset_before_first;
  if (t > d.transitions.back() && d.rule) return offset_by_rule(*d.rule, t);
  const auto after = std::upper_bound(d.transitions.begin(), d.transitions.end(), t);
  return d.offsets_after[static_cast<size_t>(after - d.transitions.begin()) - 1];
}

}  // namespace vespid::util
