// Human output: aligned tables and display forms of JSON values. JSON output is the payload as
// the gateway sent it.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vespid::cli {

// Columns padded to their widest cell, two spaces apart, no trailing blanks.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void add_row(std::vector<std::string> cells);
  void print(std::ostream& out, bool with_header = true) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
};

// The display form of obj[key]: strings as they are, numbers and booleans as JSON, "-" when
// missing, null or an empty string.
std::string text(const nlohmann::json& obj, const char* key);

// A timestamp field: ISO 8601 strings pass through; numbers are milliseconds since the epoch
// (seconds if too small to be milliseconds) shown as UTC ISO 8601; "-" when missing.
std::string time_text(const nlohmann::json& obj, const char* key);

// A timestamp field as milliseconds since the epoch: numbers as time_text reads them, strings in
// ISO 8601 (YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)); nullopt when missing or unreadable.
std::optional<long long> time_ms(const nlohmann::json& obj, const char* key);

// The current time in milliseconds since the epoch.
long long now_ms();

// A list field as "a, b, c": strings as they are, other elements as JSON; "-" when missing,
// null or empty.
std::string list_text(const nlohmann::json& obj, const char* key);

// "3d 4h", "2h 5m", "1m 3s", "12s": the two largest units of a duration in milliseconds.
std::string duration_text(long long ms);

// The payload as indented JSON on stdout.
void print_json(const nlohmann::json& payload);

}  // namespace vespid::cli
