// A node host's capabilities: the JSON object its hello (or its pairing) gave, and what picking
// a host for a dispatch reads of it, read once when they change instead of on every pick.
//
// The JSON is a hint the host wrote, kept as sent for listings and the cluster wire. A pick over
// N hosts used to look up "kinds", "connectors" and "maxInFlight" in N JSON objects per
// dispatch; it now reads these fields.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vespid::nodes {

class HostCapabilities {
 public:
  HostCapabilities() = default;
  explicit HostCapabilities(nlohmann::json doc);

  const nlohmann::json& json() const noexcept { return doc_; }

  // "kinds": a host that lists none (absent, not an array, or empty) takes every kind; one that
  // lists some takes those of its string entries.
  bool takes_kind(std::string_view kind) const;
  // "connectors", the same way, for connector.action dispatches.
  bool takes_connector(std::string_view connector_id) const;
  // "maxInFlight" when it is an integer, clamped to 1..100000; nullopt otherwise.
  std::optional<int> max_in_flight() const noexcept { return max_in_flight_; }

 private:
  nlohmann::json doc_ = nlohmann::json::object();
  bool lists_kinds_ = false;
  std::vector<std::string> kinds_;
  bool lists_connectors_ = false;
  std::vector<std::string> connectors_;
  std::optional<int> max_in_flight_;
};

}  // namespace vespid::nodes
