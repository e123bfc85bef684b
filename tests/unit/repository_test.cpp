// The repository over real storage: uniqueness, memberships, and the access token life cycle.
#include "storage/repository.hpp"

#include <gtest/gtest.h>

#include "core_harness.hpp"
#include "runtime/api_error.hpp"
#include "runtime/crypto.hpp"
#include "storage/keys.hpp"

namespace vespid::repo {
namespace {

using core::Task;
using core::testing::StorageHarness;

class RepositoryTest : public ::testing::Test {
 protected:
  RepositoryTest() : repo_(h_.storage()) { h_.run(repo_.migrate()); }

  template <class T>
  T run(Task<T> t) {
    return h_.run(std::move(t));
  }
  std::string error_code(Task<Org> t) {
    try {
      run(std::move(t));
    } catch (const api::ApiError& e) {
      return e.code();
    }
    return "";
  }

  StorageHarness h_;
  Repository repo_;
};

TEST_F(RepositoryTest, MigrationWritesTheSchemaOnceAndRefusesNewer) {
  EXPECT_EQ(run(repo_.migrate()), keys::kSchemaVersion) << "idempotent";
  auto raise = [](core::StorageService& s) -> Task<int> {
    core::Txn txn;
    txn.writes.push_back(core::Write::put(keys::kSchema, "99"));
    co_await s.commit(std::move(txn));
    co_return 0;
  };
  run(raise(h_.storage()));
  try {
    run(repo_.migrate());
    FAIL() << "a newer schema must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("newer vespid-gateway (schema 99"), std::string::npos);
  }
}

TEST_F(RepositoryTest, OrgNamesAreUniqueCaseInsensitively) {
  Org acme = run(repo_.create_org("Acme"));
  EXPECT_EQ(error_code(repo_.create_org("acme")), "CONFLICT");
  EXPECT_EQ(error_code(repo_.create_org("")), "INVALID_REQUEST");
  EXPECT_EQ(error_code(repo_.create_org("a/b")), "INVALID_REQUEST");
  EXPECT_EQ(error_code(repo_.create_org(acme.id)), "INVALID_REQUEST")
      << "names never look like ids";
  EXPECT_EQ(run(repo_.find_org("ACME"))->id, acme.id);
  EXPECT_EQ(run(repo_.find_org(acme.id))->name, "Acme");
  EXPECT_FALSE(run(repo_.find_org("globex")));
  EXPECT_EQ(run(repo_.list_orgs()).size(), 1u);
}

TEST_F(RepositoryTest, MembershipsAreIndexedBothWays) {
  Org a = run(repo_.create_org("a"));
  Org b = run(repo_.create_org("b"));
  User u = run(repo_.create_user("ann", "ann@example.org"));
  run(repo_.add_member(a.id, u.id, OrgRole::Owner));
  run(repo_.add_member(b.id, u.id, OrgRole::Member));
  run(repo_.add_member(b.id, u.id, OrgRole::Admin));  // a second add changes the role
  EXPECT_EQ(run(repo_.role_in(b.id, u.id)), OrgRole::Admin);
  EXPECT_EQ(run(repo_.orgs_of(u.id)).size(), 2u);
  EXPECT_EQ(run(repo_.members_of(a.id)).size(), 1u);
  EXPECT_THROW(run(repo_.add_member(a.id, "no-such-user", OrgRole::Member)), api::ApiError);
}

TEST_F(RepositoryTest, AccessTokensAreStoredHashedAndVerifiedStrictly) {
  Org a = run(repo_.create_org("a"));
  User u = run(repo_.create_user("ann", ""));
  run(repo_.add_member(a.id, u.id, OrgRole::Member));
  auto issued = run(repo_.create_access_token(u.id, a.id, "ci", 0));
  const std::string& token = issued.secret_token;
  ASSERT_EQ(token.size(), 4u + 16 + 1 + 43);

  // Only the hash is at rest.
  auto raw = [](core::StorageService& s, std::string key) -> Task<std::string> {
    auto kv = co_await s.get(key);
    co_return kv ? kv->value : "";
  };
  std::string stored = run(raw(h_.storage(), keys::access_token(issued.record.id)));
  EXPECT_EQ(stored.find(token.substr(21)), std::string::npos) << "the secret must not be stored";
  EXPECT_NE(stored.find(crypto::sha256_hex(token)), std::string::npos);

  auto ok = run(repo_.verify_access_token(token));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->user_id, u.id);
  EXPECT_EQ(ok->org_id, a.id);

  std::string flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(run(repo_.verify_access_token(flipped)));
  EXPECT_FALSE(run(repo_.verify_access_token("")));
  EXPECT_FALSE(run(repo_.verify_access_token("vat_short")));
  EXPECT_FALSE(run(repo_.verify_access_token(token.substr(0, token.size() - 1))));

  EXPECT_TRUE(run(repo_.revoke_access_token(issued.record.id)));
  EXPECT_FALSE(run(repo_.revoke_access_token(issued.record.id))) << "already revoked";
  EXPECT_FALSE(run(repo_.verify_access_token(token)));
}

TEST_F(RepositoryTest, OrgBoundTokensNeedAMembership) {
  Org a = run(repo_.create_org("a"));
  User u = run(repo_.create_user("ann", ""));
  try {
    run(repo_.create_access_token(u.id, a.id, "", 0));
    FAIL();
  } catch (const api::ApiError& e) {
    EXPECT_EQ(e.code(), "INVALID_REQUEST");
  }
  EXPECT_EQ(run(repo_.tokens_of(u.id)).size(), 0u) << "nothing half-written";
}

// `vespid token list` shows LAST USED; writing it on every request would turn each check into a
// write, so it is written when the stored one is a minute old or more.
TEST_F(RepositoryTest, ATokensLastUseIsWrittenAtMostOnceAMinute) {
  User u = run(repo_.create_user("ann", ""));
  auto issued = run(repo_.create_access_token(u.id, "", "", 0));
  const std::string key = keys::access_token(issued.record.id);
  auto stored = [](core::StorageService& s, std::string k) -> Task<core::KV> {
    auto kv = co_await s.get(k);
    co_return kv.value_or(core::KV{});
  };
  auto put = [](core::StorageService& s, std::string k, std::string v) -> Task<bool> {
    core::Txn txn;
    txn.writes.push_back(core::Write::put(k, v));
    auto out = co_await s.commit(std::move(txn));
    co_return out.applied;
  };
  EXPECT_EQ(run(repo_.tokens_of(u.id)).at(0).last_used_at_ms, 0) << "never used yet";
  const uint64_t created = run(stored(h_.storage(), key)).version;

  ASSERT_TRUE(run(repo_.verify_access_token(issued.secret_token)));
  const core::KV first = run(stored(h_.storage(), key));
  EXPECT_NE(first.version, created) << "the first use is written";
  const int64_t first_use = run(repo_.tokens_of(u.id)).at(0).last_used_at_ms;
  EXPECT_GT(first_use, 0);
  EXPECT_TRUE(to_public_json(run(repo_.tokens_of(u.id)).at(0)).contains("lastUsedAt"));

  ASSERT_TRUE(run(repo_.verify_access_token(issued.secret_token)));
  EXPECT_EQ(run(stored(h_.storage(), key)).version, first.version)
      << "a second use within the minute is a read only";

  // A use noted more than a minute ago is written again.
  nlohmann::json aged = nlohmann::json::parse(first.value);
  aged["lastUsedAtMs"] = first_use - Repository::kLastUseResolutionMs - 1000;
  ASSERT_TRUE(run(put(h_.storage(), key, aged.dump())));
  const uint64_t aged_version = run(stored(h_.storage(), key)).version;
  ASSERT_TRUE(run(repo_.verify_access_token(issued.secret_token)));
  EXPECT_NE(run(stored(h_.storage(), key)).version, aged_version);
  EXPECT_GE(run(repo_.tokens_of(u.id)).at(0).last_used_at_ms, first_use);

  // Revoked stays revoked: the note never writes over a revocation.
  EXPECT_TRUE(run(repo_.revoke_access_token(issued.record.id)));
  EXPECT_FALSE(run(repo_.verify_access_token(issued.secret_token)));
  EXPECT_TRUE(run(repo_.tokens_of(u.id)).at(0).revoked);
}

}  // namespace
}  // namespace vespid::repo
