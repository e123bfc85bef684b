// IANA time zones read from the system's tzdata (TZif files, RFC 8536), for schedules written in
// local wall time (workflow cron triggers). Only what a schedule needs: the UTC offset in effect
// at an instant. std::chrono's time zone database would do this, but GCC 12's library lacks it.
//
// Immutable once loaded: copies share the loaded data, and any number of threads may read it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace vespid::util {

class TimeZone {
 public:
  // "UTC" and "Etc/UTC" are built in (they need no tzdata). Any other IANA name is read from
  // $TZDIR/<name>, or /usr/share/zoneinfo/<name> when TZDIR is unset; the file must be TZif
  // version 2 or later. On failure: nullopt, and *error (when given) says what is wrong.
  static std::optional<TimeZone> load(const std::string& name, std::string* error);

  // Seconds east of UTC in effect at utc_seconds (since the Unix epoch), DST included:
  // +3600 for Europe/Berlin in January, +7200 in July.
  int64_t offset_seconds_at(int64_t utc_seconds) const;

  const std::string& name() const;

  // The transitions and the footer rule; defined in the .cpp (public only so that its helpers
  // can name it).
  struct Data;

 private:
  explicit TimeZone(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
  std::shared_ptr<const Data> data_;
};

}  // namespace vespid::util
