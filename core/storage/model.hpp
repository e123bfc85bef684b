// The records the repository stores, and their JSON forms (on disk and on the wire).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace vespid::repo {

struct Org {
  std::string id, name, created_at;
};

struct User {
  std::string id, name, email, created_at;
  // May decide first-time pairing requests and see the gateway's health (status, log tail). Set
  // by the local admin; records written before the flag existed read as false.
  bool gateway_admin = false;
};

enum class OrgRole { Owner, Admin, Member };
const char* role_text(OrgRole r) noexcept;
std::optional<OrgRole> parse_role(const std::string& s) noexcept;

struct Membership {
  std::string org_id, user_id;
  OrgRole role = OrgRole::Member;
};

struct AccessToken {
  std::string id, user_id, org_id, name, hash_hex, created_at;
  int64_t expires_at_ms = 0;  // 0: never
  bool revoked = false;
  int64_t last_used_at_ms = 0;  // 0: never; kept to the minute (Repository::verify_access_token)
};

nlohmann::json to_json(const Org& o);
nlohmann::json to_json(const User& u);
nlohmann::json to_public_json(const AccessToken& t);  // never includes the hash
Org org_from(const nlohmann::json& j);
User user_from(const nlohmann::json& j);
AccessToken token_from(const nlohmann::json& j);
nlohmann::json to_stored_json(const AccessToken& t);

}  // namespace vespid::repo
