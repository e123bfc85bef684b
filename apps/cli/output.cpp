#include "output.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace vespid::cli {

Table::Table(std::vector<std::string> headers) {
  rows_.push_back(std::move(headers));
}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(rows_.front().size());
  rows_.push_back(std::move(cells));
}

void Table::print(std::ostream& out, bool with_header) const {
  std::vector<std::size_t> width(rows_.front().size(), 0);
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (std::size_t r = with_header ? 0 : 1; r < rows_.size(); ++r) {
    const auto& row = rows_[r];
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
}

std::string text(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return "-";
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "-";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::string time_text(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return "-";
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return text(obj, key);
  const auto value = it->get<long long>();
  // Anything below 1e11 would be a millisecond time in early 1973: it must be seconds.
  const bool is_ms = value >= 100000000000LL;
  const std::time_t secs = is_ms ? value / 1000 : value;
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr) return it->dump();
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  // Same shape as the gateway's own timestamps (milliseconds, Z), so the two compare as text.
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", is_ms ? static_cast<int>(value % 1000) : 0);
  return buf;
}

std::string duration_text(long long ms) {
  long long s = ms / 1000;
  const long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
  s %= 60;
  if (d > 0) return std::to_string(d) + "d " + std::to_string(h) + "h";
  if (h > 0) return std::to_string(h) + "h " + std::to_string(m) + "m";
  if (m > 0) return std::to_string(m) + "m " + std::to_string(s) + "s";
  return std::to_string(s) + "s";
}

void print_json(const nlohmann::json& payload) {
  std::cout << payload.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace vespid::cli
