#include "services/sessions/session_list_filter.hpp"

#include <algorithm>
#include <cctype>

#include "runtime/api_error.hpp"

namespace vespid::sessions {

namespace {

// ASCII case folding is enough for ids and engine names; titles in other scripts still match
// their exact case.
bool contains_folded(const std::string& haystack, const std::string& needle) {
  auto fold = [](unsigned char c) { return static_cast<char>(std::tolower(c)); };
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [&](char a, char b) { return fold(a) == fold(b); });
  return it != haystack.end();
}

std::string string_field(const nlohmann::json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

SessionListFilter SessionListFilter::from_params(std::string text, std::string created_by,
                                                 std::string agent_id,
                                                 const std::string& caller_user_id) {
  if (text.size() > 200) {
    throw api::invalid("\"q\" must be at most 200 bytes", {{"field", "q"}});
  }
  if (created_by == "me") created_by = caller_user_id;
  return SessionListFilter{std::move(text), std::move(created_by), std::move(agent_id)};
}

bool SessionListFilter::matches(const nlohmann::json& record) const {
  if (!created_by.empty() && string_field(record, "createdBy") != created_by) return false;
  if (!agent_id.empty() && string_field(record, "pinnedAgentId") != agent_id) return false;
  if (!text.empty() && !contains_folded(string_field(record, "title"), text) &&
      !contains_folded(string_field(record, "engine"), text)) {
    return false;
  }
  return true;
}

}  // namespace vespid::sessions
