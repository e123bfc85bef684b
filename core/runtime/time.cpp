#include "runtime/time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace vespid::util {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t parse_iso8601_ms(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) !=
          6 ||
      used != 19) {
    return 0;
  }
  std::size_t at = 19;
  if (at < text.size() && text[at] == '.') {
    int digits = 0;
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++digits) {
      if (digits < 3) ms = ms * 10 + (text[at] - '0');
    }
    if (digits == 0) return 0;
    for (; digits < 3; ++digits) ms *= 10;
  }
  if (at + 1 != text.size() || text[at] != 'Z') return 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return 0;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const std::time_t secs = timegm(&tm);
  return static_cast<int64_t>(secs) * 1000 + ms;
}

namespace {

// The libc way, for the years the fast path does not write (before 0000, after 9999).
std::string iso8601_libc(int64_t epoch_ms) {
  std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the compiler imagines in tm fields
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(epoch_ms % 1000));
  return buf;
}

// `value`'s last `width` decimal digits into `at`, zero-padded.
void put_digits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

// Every dispatch record carries one of these: the calendar from <chrono> and the digits written
// by hand, about a tenth of what gmtime_r and snprintf cost.
std::string iso8601(int64_t epoch_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> at{milliseconds{epoch_ms}};
  const sys_days day = floor<days>(at);
  const year_month_day date{day};
  const int year = static_cast<int>(date.year());
  if (epoch_ms < 0 || year > 9999) return iso8601_libc(epoch_ms);
  const auto in_day = static_cast<unsigned>((at - day).count());  // 0 .. 86,399,999 ms
  char text[] = "0000-00-00T00:00:00.000Z";
  put_digits(text, static_cast<unsigned>(year), 4);
  put_digits(text + 5, static_cast<unsigned>(date.month()), 2);
  put_digits(text + 8, static_cast<unsigned>(date.day()), 2);
  put_digits(text + 11, in_day / 3'600'000, 2);
  put_digits(text + 14, in_day / 60'000 % 60, 2);
  put_digits(text + 17, in_day / 1000 % 60, 2);
  put_digits(text + 20, in_day % 1000, 3);
  return std::string(text, sizeof text - 1);
}

}  // namespace vespid::util
