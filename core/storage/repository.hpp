// Orgs, users, memberships and access tokens over the storage service. Every durable fact lives
// in storage (nothing cached in memory), so several gateways can later share one database.
// Uniqueness is enforced with storage compares, never with read-then-write races.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/task.hpp"
#include "storage/model.hpp"
#include "storage/storage_service.hpp"

namespace vespid::repo {

class Repository {
 public:
  explicit Repository(core::StorageService& storage) : storage_(storage) {}

  // Brings the key layout to kSchemaVersion; refuses a store written by a newer gateway.
  core::Task<int> migrate();

  core::Task<Org> create_org(std::string name);
  core::Task<std::vector<Org>> list_orgs();
  core::Task<std::optional<Org>> find_org(std::string id_or_name);
  core::Task<Org> require_org(std::string id_or_name);  // NOT_FOUND otherwise

  core::Task<User> create_user(std::string name, std::string email);
  core::Task<std::vector<User>> list_users();
  core::Task<std::optional<User>> find_user(std::string id_or_name);
  core::Task<User> require_user(std::string id_or_name);
  // Marks the user a gateway administrator or not (a version compare, retried on conflict).
  // NOT_FOUND for an unknown user. Returns the record as stored.
  core::Task<User> set_gateway_admin(std::string user_id, bool admin);
  // False for an unknown user: the flag is read from storage on every use, never cached.
  core::Task<bool> is_gateway_admin(std::string user_id);

  core::Task<Membership> add_member(std::string org_id, std::string user_id, OrgRole role);
  // Throws api::ApiError NOT_FOUND when the user is not a member.
  core::Task<void> remove_member(std::string org_id, std::string user_id);
  core::Task<std::optional<OrgRole>> role_in(std::string org_id, std::string user_id);
  core::Task<std::vector<Membership>> members_of(std::string org_id);
  core::Task<std::vector<Membership>> orgs_of(std::string user_id);

  struct IssuedToken {
    AccessToken record;
    std::string secret_token;  // shown once, never stored
  };
  core::Task<IssuedToken> create_access_token(std::string user_id, std::string org_id,
                                              std::string name, int64_t ttl_seconds);
  core::Task<std::vector<AccessToken>> tokens_of(std::string user_id);
  core::Task<bool> revoke_access_token(std::string token_id);
  // Checks a presented access token: format, existence, hash (constant time), expiry, revocation.
  // A valid token's last use is written when the stored one is a minute old or more, so checking
  // stays a read on all but one request a minute per token.
  core::Task<std::optional<AccessToken>> verify_access_token(std::string presented);
  static constexpr int64_t kLastUseResolutionMs = 60'000;

 private:
  using KeyFn = std::string (*)(std::string_view);
  core::Task<void> commit_or_conflict(core::Txn txn, std::string conflict_message);
  // Writes `now` as the token's last use if the record is still at `version`; never throws.
  core::Task<void> note_token_use(AccessToken t, uint64_t version, int64_t now);
  // Writes a record and claims its unique name in one transaction (CONFLICT if taken).
  core::Task<void> insert_named(std::string record_key, std::string name_key, std::string id,
                                std::string value, std::string conflict_message);
  // The stored JSON of the record named by an id or a name.
  core::Task<std::optional<std::string>> find_named(std::string id_or_name, KeyFn record_key,
                                                    KeyFn name_key);

  core::StorageService& storage_;
};

}  // namespace vespid::repo
