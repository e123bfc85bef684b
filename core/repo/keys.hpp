// The key layout (schema version 1). Every table and index of the gateway is a key range in the
// ordered store; this file is the one place that spells them.
//
//   meta/schema                         -> "1"
//   org/<orgId>                         -> Org JSON
//   idx/org-name/<lowercased name>      -> orgId               (unique names)
//   user/<userId>                       -> User JSON
//   idx/user-name/<lowercased name>     -> userId              (unique names)
//   member/<orgId>/<userId>             -> {"role","createdAt"}
//   idx/user-orgs/<userId>/<orgId>      -> role                (reverse index)
//   atok/<tokenId>                      -> AccessToken JSON (hash only, never the token)
//   idx/user-tokens/<userId>/<tokenId>  -> ""
#pragma once

#include <string>
#include <string_view>

namespace vespid::repo::keys {

inline constexpr int kSchemaVersion = 1;
inline const std::string kSchema = "meta/schema";

std::string lower(std::string_view s);

inline std::string org(std::string_view id) { return "org/" + std::string(id); }
inline const std::string kOrgPrefix = "org/";
inline std::string org_name(std::string_view name) { return "idx/org-name/" + lower(name); }

inline std::string user(std::string_view id) { return "user/" + std::string(id); }
inline const std::string kUserPrefix = "user/";
inline std::string user_name(std::string_view name) { return "idx/user-name/" + lower(name); }

inline std::string member(std::string_view org, std::string_view user) {
  return "member/" + std::string(org) + "/" + std::string(user);
}
inline std::string members_of(std::string_view org) { return "member/" + std::string(org) + "/"; }
inline std::string user_org(std::string_view user, std::string_view org) {
  return "idx/user-orgs/" + std::string(user) + "/" + std::string(org);
}
inline std::string orgs_of(std::string_view user) { return "idx/user-orgs/" + std::string(user) + "/"; }

inline std::string access_token(std::string_view id) { return "atok/" + std::string(id); }
inline std::string user_token(std::string_view user, std::string_view id) {
  return "idx/user-tokens/" + std::string(user) + "/" + std::string(id);
}
inline std::string tokens_of(std::string_view user) { return "idx/user-tokens/" + std::string(user) + "/"; }

}  // namespace vespid::repo::keys
