#include "services/nodes/host_capabilities.hpp"

#include <algorithm>

namespace vespid::nodes {

namespace {

// A listing member: whether it is a non-empty array, and its string entries.
bool read_list(const nlohmann::json& doc, const char* name, std::vector<std::string>& out) {
  const auto it = doc.find(name);
  if (it == doc.end() || !it->is_array() || it->empty()) return false;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return true;
}

bool listed(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

HostCapabilities::HostCapabilities(nlohmann::json doc) : doc_(std::move(doc)) {
  if (!doc_.is_object()) return;
  lists_kinds_ = read_list(doc_, "kinds", kinds_);
  lists_connectors_ = read_list(doc_, "connectors", connectors_);
  const auto it = doc_.find("maxInFlight");
  if (it != doc_.end() && it->is_number_integer()) {
    max_in_flight_ = static_cast<int>(std::clamp<int64_t>(it->get<int64_t>(), 1, 100000));
  }
}

bool HostCapabilities::takes_kind(std::string_view kind) const {
  return !lists_kinds_ || listed(kinds_, kind);
}

bool HostCapabilities::takes_connector(std::string_view connector_id) const {
  return !lists_connectors_ || listed(connectors_, connector_id);
}

}  // namespace vespid::nodes
