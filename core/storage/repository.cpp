#include "storage/repository.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <regex>

#include "runtime/api_error.hpp"
#include "runtime/crypto.hpp"
#include "runtime/logging.hpp"
#include "runtime/time.hpp"
#include "storage/keys.hpp"

namespace vespid::repo {

using core::Compare;
using core::Task;
using core::Txn;
using core::Write;
using nlohmann::json;

namespace keys {
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}
std::string result_expiry(int64_t expires_at_ms, std::string_view request_id) {
  // Zero-padded so that byte order is time order.
  char stamp[24];
  std::snprintf(stamp, sizeof stamp, "%016lld", static_cast<long long>(expires_at_ms));
  return kResultExpiryPrefix + stamp + "/" + std::string(request_id);
}
std::string cron_due(int64_t fire_ms, std::string_view workflow_id) {
  return kCronDuePrefix + padded(static_cast<uint64_t>(std::max<int64_t>(0, fire_ms))) + "/" +
         std::string(workflow_id);
}
}  // namespace keys

namespace {

const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");

void check_name(const std::string& what, const std::string& name) {
  if (name.empty() || name.size() > 128) {
    throw api::invalid(what + " name must be 1 to 128 characters");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == '/')
      throw api::invalid(what + " name must not contain '/' or control characters");
  }
  if (std::regex_match(name, kUuid)) throw api::invalid(what + " name must not look like an id");
}

// Access tokens: "vat_" + 16 hex (token id) + "_" + 43 base64url characters (32 random bytes).
// The id lets the gateway find the record; only the SHA-256 of the whole token is stored.
constexpr std::string_view kTokenPrefix = "vat_";
constexpr size_t kTokenIdLen = 16;

}  // namespace

Task<int> Repository::migrate() {
  auto current = co_await storage_.get(keys::kSchema);
  int version = current ? std::stoi(current->value) : 0;
  if (version > keys::kSchemaVersion) {
    throw std::runtime_error("the database was written by a newer vespid-gateway (schema " +
                             std::to_string(version) + ", this build knows up to " +
                             std::to_string(keys::kSchemaVersion) +
                             "); upgrade vespid-gateway or restore a backup");
  }
  // Each step moves the layout from version N to N+1 in one transaction guarded by the schema
  // key's version, so two gateways racing on one database cannot both apply it.
  while (version < keys::kSchemaVersion) {
    Txn txn;
    txn.compares.push_back(current ? Compare::version_is(keys::kSchema, current->version)
                                   : Compare::absent(keys::kSchema));
    switch (version) {
      case 0:
        // 0 -> 1: an empty store gets the version-1 layout. Nothing to rewrite.
        break;
    }
    txn.writes.push_back(Write::put(keys::kSchema, std::to_string(version + 1)));
    auto out = co_await storage_.commit(std::move(txn));
    if (!out.applied) throw std::runtime_error("schema migration raced with another writer; retry");
    log::get("storage")->info("storage schema migrated from {} to {}", version, version + 1);
    current = co_await storage_.get(keys::kSchema);
    version = std::stoi(current->value);
  }
  co_return version;
}

Task<void> Repository::commit_or_conflict(Txn txn, std::string conflict_message) {
  auto out = co_await storage_.commit(std::move(txn));
  if (!out.applied) throw api::conflict(conflict_message);
}

// ---- Records with a unique name (orgs, users) ----

Task<void> Repository::insert_named(std::string record_key, std::string name_key, std::string id,
                                    std::string value, std::string conflict_message) {
  Txn txn;
  txn.compares.push_back(Compare::absent(name_key));  // the name is taken in the same transaction
  txn.writes.push_back(Write::put(record_key, value));
  txn.writes.push_back(Write::put(name_key, id));
  co_await commit_or_conflict(std::move(txn), conflict_message);
}

Task<std::optional<std::string>> Repository::find_named(std::string id_or_name, KeyFn record_key,
                                                        KeyFn name_key) {
  std::string id = id_or_name;
  if (!std::regex_match(id_or_name, kUuid)) {  // names never look like ids (check_name)
    auto idx = co_await storage_.get(name_key(id_or_name));
    if (!idx) co_return std::nullopt;
    id = idx->value;
  }
  auto row = co_await storage_.get(record_key(id));
  if (!row) co_return std::nullopt;
  co_return row->value;
}

// ---- Orgs ----

Task<Org> Repository::create_org(std::string name) {
  check_name("org", name);
  Org org{crypto::uuid_v4(), name, util::now_iso8601()};
  Task<void> t = insert_named(keys::org(org.id), keys::org_name(name), org.id, to_json(org).dump(),
                              "an org named \"" + name + "\" already exists");
  co_await std::move(t);
  co_return org;
}

Task<std::vector<Org>> Repository::list_orgs() {
  auto rows = co_await storage_.scan_prefix(keys::kOrgPrefix);
  std::vector<Org> out;
  for (const auto& r : rows) out.push_back(org_from(json::parse(r.value)));
  std::sort(out.begin(), out.end(), [](const Org& a, const Org& b) { return a.name < b.name; });
  co_return out;
}

Task<std::optional<Org>> Repository::find_org(std::string id_or_name) {
  Task<std::optional<std::string>> t = find_named(id_or_name, &keys::org, &keys::org_name);
  std::optional<std::string> row = co_await std::move(t);
  if (!row) co_return std::nullopt;
  co_return org_from(json::parse(*row));
}

Task<Org> Repository::require_org(std::string id_or_name) {
  auto org = co_await find_org(id_or_name);
  if (!org) throw api::not_found("no org \"" + id_or_name + "\"");
  co_return *org;
}

// ---- Users ----

Task<User> Repository::create_user(std::string name, std::string email) {
  check_name("user", name);
  if (!email.empty() && (email.size() > 254 || email.find('@') == std::string::npos)) {
    throw api::invalid("email \"" + email + "\" is not an email address");
  }
  User user{crypto::uuid_v4(), name, email, util::now_iso8601()};
  Task<void> t = insert_named(keys::user(user.id), keys::user_name(name), user.id,
                              to_json(user).dump(), "a user named \"" + name + "\" already exists");
  co_await std::move(t);
  co_return user;
}

Task<std::vector<User>> Repository::list_users() {
  auto rows = co_await storage_.scan_prefix(keys::kUserPrefix);
  std::vector<User> out;
  for (const auto& r : rows) out.push_back(user_from(json::parse(r.value)));
  std::sort(out.begin(), out.end(), [](const User& a, const User& b) { return a.name < b.name; });
  co_return out;
}

Task<std::optional<User>> Repository::find_user(std::string id_or_name) {
  Task<std::optional<std::string>> t = find_named(id_or_name, &keys::user, &keys::user_name);
  std::optional<std::string> row = co_await std::move(t);
  if (!row) co_return std::nullopt;
  co_return user_from(json::parse(*row));
}

Task<User> Repository::require_user(std::string id_or_name) {
  auto user = co_await find_user(id_or_name);
  if (!user) throw api::not_found("no user \"" + id_or_name + "\"");
  co_return *user;
}

Task<User> Repository::set_gateway_admin(std::string user_id, bool admin) {
  for (;;) {
    auto rec = co_await storage_.get(keys::user(user_id));
    if (!rec) throw api::not_found("no user \"" + user_id + "\"");
    User u = user_from(json::parse(rec->value));
    if (u.gateway_admin == admin) co_return u;
    u.gateway_admin = admin;
    Txn txn;
    txn.compares.push_back(Compare::version_is(keys::user(user_id), rec->version));
    txn.writes.push_back(Write::put(keys::user(user_id), to_json(u).dump()));
    auto out = co_await storage_.commit(std::move(txn));
    if (out.applied) co_return u;
    // Changed in between (another operator): read again.
  }
}

Task<bool> Repository::is_gateway_admin(std::string user_id) {
  if (user_id.empty()) co_return false;
  auto rec = co_await storage_.get(keys::user(user_id));
  co_return rec&& json::parse(rec->value).value("gatewayAdmin", false);
}

// ---- Memberships ----

Task<Membership> Repository::add_member(std::string org_id, std::string user_id, OrgRole role) {
  Txn txn;
  // Both ends must still exist when the membership is written.
  txn.compares.push_back(Compare::present(keys::org(org_id)));
  txn.compares.push_back(Compare::present(keys::user(user_id)));
  json rec = {{"role", role_text(role)}, {"createdAt", util::now_iso8601()}};
  txn.writes.push_back(Write::put(keys::member(org_id, user_id), rec.dump()));
  txn.writes.push_back(Write::put(keys::user_org(user_id, org_id), role_text(role)));
  auto out = co_await storage_.commit(std::move(txn));
  if (!out.applied) throw api::not_found(out.failed_compare == 0 ? "no such org" : "no such user");
  co_return Membership{org_id, user_id, role};
}

Task<void> Repository::remove_member(std::string org_id, std::string user_id) {
  Txn txn;
  txn.compares.push_back(Compare::present(keys::member(org_id, user_id)));
  txn.writes.push_back(Write::del(keys::member(org_id, user_id)));
  txn.writes.push_back(Write::del(keys::user_org(user_id, org_id)));
  auto out = co_await storage_.commit(std::move(txn));
  if (!out.applied) throw api::not_found("that user is not a member of that org");
}

Task<std::optional<OrgRole>> Repository::role_in(std::string org_id, std::string user_id) {
  auto row = co_await storage_.get(keys::member(org_id, user_id));
  if (!row) co_return std::nullopt;
  co_return parse_role(json::parse(row->value).value("role", "member"));
}

Task<std::vector<Membership>> Repository::members_of(std::string org_id) {
  std::string prefix = keys::members_of(org_id);
  auto rows = co_await storage_.scan_prefix(prefix);
  std::vector<Membership> out;
  for (const auto& r : rows) {
    auto role = parse_role(json::parse(r.value).value("role", "member"));
    out.push_back({org_id, r.key.substr(prefix.size()), role.value_or(OrgRole::Member)});
  }
  co_return out;
}

Task<std::vector<Membership>> Repository::orgs_of(std::string user_id) {
  std::string prefix = keys::orgs_of(user_id);
  auto rows = co_await storage_.scan_prefix(prefix);
  std::vector<Membership> out;
  for (const auto& r : rows) {
    out.push_back(
        {r.key.substr(prefix.size()), user_id, parse_role(r.value).value_or(OrgRole::Member)});
  }
  co_return out;
}

// ---- Access tokens ----

Task<Repository::IssuedToken> Repository::create_access_token(std::string user_id,
                                                              std::string org_id, std::string name,
                                                              int64_t ttl_seconds) {
  if (ttl_seconds < 0) throw api::invalid("ttlSeconds must be positive");
  IssuedToken issued;
  AccessToken& t = issued.record;
  t.id = crypto::hex(crypto::random_bytes(kTokenIdLen / 2));
  t.user_id = user_id;
  t.org_id = org_id;
  t.name = name;
  t.created_at = util::now_iso8601();
  t.expires_at_ms = ttl_seconds ? util::now_ms() + ttl_seconds * 1000 : 0;
  issued.secret_token =
      std::string(kTokenPrefix) + t.id + "_" + crypto::base64url(crypto::random_bytes(32));
  t.hash_hex = crypto::sha256_hex(issued.secret_token);
  Txn txn;
  txn.compares.push_back(Compare::present(keys::user(user_id)));
  if (!org_id.empty()) txn.compares.push_back(Compare::present(keys::member(org_id, user_id)));
  txn.compares.push_back(Compare::absent(keys::access_token(t.id)));
  txn.writes.push_back(Write::put(keys::access_token(t.id), to_stored_json(t).dump()));
  txn.writes.push_back(Write::put(keys::user_token(user_id, t.id), ""));
  auto out = co_await storage_.commit(std::move(txn));
  if (!out.applied) {
    if (out.failed_compare == 0) throw api::not_found("no such user");
    if (!org_id.empty() && out.failed_compare == 1) {
      throw api::invalid("the user is not a member of that org; add them first (members.add)");
    }
    throw api::conflict("token id collision; try again");
  }
  co_return issued;
}

Task<std::vector<AccessToken>> Repository::tokens_of(std::string user_id) {
  std::string prefix = keys::tokens_of(user_id);
  auto rows = co_await storage_.scan_prefix(prefix);
  std::vector<AccessToken> out;
  for (const auto& r : rows) {
    auto rec = co_await storage_.get(keys::access_token(r.key.substr(prefix.size())));
    if (rec) out.push_back(token_from(json::parse(rec->value)));
  }
  co_return out;
}

Task<bool> Repository::revoke_access_token(std::string token_id) {
  for (;;) {
    auto rec = co_await storage_.get(keys::access_token(token_id));
    if (!rec) throw api::not_found("no access token \"" + token_id + "\"");
    AccessToken t = token_from(json::parse(rec->value));
    if (t.revoked) co_return false;
    t.revoked = true;
    Txn txn;
    txn.compares.push_back(Compare::version_is(keys::access_token(token_id), rec->version));
    txn.writes.push_back(Write::put(keys::access_token(token_id), to_stored_json(t).dump()));
    auto out = co_await storage_.commit(std::move(txn));
    if (out.applied) co_return true;
    // Someone else changed it in between: read again.
  }
}

Task<std::optional<AccessToken>> Repository::verify_access_token(std::string presented) {
  if (presented.size() < kTokenPrefix.size() + kTokenIdLen + 2 ||
      presented.compare(0, kTokenPrefix.size(), kTokenPrefix) != 0 ||
      presented[kTokenPrefix.size() + kTokenIdLen] != '_') {
    co_return std::nullopt;
  }
  std::string id = presented.substr(kTokenPrefix.size(), kTokenIdLen);
  auto rec = co_await storage_.get(keys::access_token(id));
  // Hash even when the record is missing, so a miss and a wrong secret cost the same.
  std::string hash = crypto::sha256_hex(presented);
  if (!rec) co_return std::nullopt;
  AccessToken t = token_from(json::parse(rec->value));
  if (!crypto::equal_ct(hash, t.hash_hex)) co_return std::nullopt;
  if (t.revoked) co_return std::nullopt;
  const int64_t now = util::now_ms();
  if (t.expires_at_ms != 0 && now >= t.expires_at_ms) co_return std::nullopt;
  if (now - t.last_used_at_ms >= kLastUseResolutionMs) {
    Task<void> noted = note_token_use(t, rec->version, now);
    co_await std::move(noted);
  }
  co_return t;
}

Task<void> Repository::note_token_use(AccessToken t, uint64_t version, int64_t now) {
  t.last_used_at_ms = now;
  Txn txn;
  // Only over the record just read: a revocation in between wins, and of several gateways
  // noting the same minute one write lands.
  txn.compares.push_back(Compare::version_is(keys::access_token(t.id), version));
  txn.writes.push_back(Write::put(keys::access_token(t.id), to_stored_json(t).dump()));
  try {
    core::TxnOutcome out = co_await storage_.commit(std::move(txn));
    static_cast<void>(out);  // not applied: someone else wrote it first, which is as good
  } catch (const std::exception& e) {
    // A note, not the check: a store that cannot take it must not refuse the token.
    log::get("storage")->warn("could not note the use of access token {}: {}", t.id, e.what());
  }
}

}  // namespace vespid::repo
