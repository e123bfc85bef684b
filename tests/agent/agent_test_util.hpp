// Shared by the binary tests: where vespid-agent is, and reading its JSON-lines output.
#pragma once

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace vespid::test {

inline std::string agent_bin() {
  return VESPID_AGENT_BIN;
}

inline std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) v.push_back(nlohmann::json::parse(line));
  }
  return v;
}

// The events of execute_event frames, in order.
inline std::vector<nlohmann::json> events_of(const std::vector<nlohmann::json>& frames) {
  std::vector<nlohmann::json> ev;
  for (const auto& f : frames) {
    if (f.value("type", "") == "execute_event") ev.push_back(f["event"]);
  }
  return ev;
}

}  // namespace vespid::test
