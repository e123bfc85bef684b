#include "storage/model.hpp"

#include "runtime/time.hpp"

namespace vespid::repo {

using nlohmann::json;

const char* role_text(OrgRole r) noexcept {
  switch (r) {
    case OrgRole::Owner:
      return "owner";
    case OrgRole::Admin:
      return "admin";
    case OrgRole::Member:
      return "member";
  }
  return "member";
}

std::optional<OrgRole> parse_role(const std::string& s) noexcept {
  if (s == "owner") return OrgRole::Owner;
  if (s == "admin") return OrgRole::Admin;
  if (s == "member") return OrgRole::Member;
  return std::nullopt;
}

json to_json(const Org& o) {
  return {{"id", o.id}, {"name", o.name}, {"createdAt", o.created_at}};
}

json to_json(const User& u) {
  json j = {{"id", u.id}, {"name", u.name}, {"createdAt", u.created_at}};
  if (!u.email.empty()) j["email"] = u.email;
  j["gatewayAdmin"] = u.gateway_admin;
  return j;
}

json to_public_json(const AccessToken& t) {
  json j = {{"tokenId", t.id}, {"userId", t.user_id}, {"createdAt", t.created_at}};
  if (!t.name.empty()) j["name"] = t.name;
  if (!t.org_id.empty()) j["orgId"] = t.org_id;
  if (t.expires_at_ms) j["expiresAt"] = util::iso8601(t.expires_at_ms);
  if (t.revoked) j["revoked"] = true;
  if (t.last_used_at_ms) j["lastUsedAt"] = util::iso8601(t.last_used_at_ms);
  return j;
}

json to_stored_json(const AccessToken& t) {
  return {{"id", t.id},
          {"userId", t.user_id},
          {"orgId", t.org_id},
          {"name", t.name},
          {"sha256", t.hash_hex},
          {"createdAt", t.created_at},
          {"expiresAtMs", t.expires_at_ms},
          {"revoked", t.revoked},
          {"lastUsedAtMs", t.last_used_at_ms}};
}

Org org_from(const json& j) {
  return {j.at("id"), j.at("name"), j.value("createdAt", "")};
}

User user_from(const json& j) {
  return {j.at("id"), j.at("name"), j.value("email", ""), j.value("createdAt", ""),
          j.value("gatewayAdmin", false)};
}

AccessToken token_from(const json& j) {
  AccessToken t;
  t.id = j.at("id");
  t.user_id = j.at("userId");
  t.org_id = j.value("orgId", "");
  t.name = j.value("name", "");
  t.hash_hex = j.at("sha256");
  t.created_at = j.value("createdAt", "");
  t.expires_at_ms = j.value("expiresAtMs", int64_t{0});
  t.revoked = j.value("revoked", false);
  t.last_used_at_ms = j.value("lastUsedAtMs", int64_t{0});
  return t;
}

}  // namespace vespid::repo
