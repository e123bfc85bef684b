// What a session list may be narrowed to: a text in the title or engine, who created the
// session, the node host it is pinned to. A filter that is empty matches every session.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vespid::sessions {

struct SessionListFilter {
  std::string text;        // case-insensitive, in the title or the engine id (at most 200 bytes)
  std::string created_by;  // a user id
  std::string agent_id;    // the pinned node host's id

  // From a request's parameters: `createdBy` "me" is `caller_user_id`. Throws INVALID_REQUEST
  // (details.field) for a text over 200 bytes.
  static SessionListFilter from_params(std::string text, std::string created_by,
                                       std::string agent_id, const std::string& caller_user_id);

  bool empty() const noexcept { return text.empty() && created_by.empty() && agent_id.empty(); }
  // `record` is a session as stored (title, engine, createdBy, pinnedAgentId).
  bool matches(const nlohmann::json& record) const;
};

}  // namespace vespid::sessions
