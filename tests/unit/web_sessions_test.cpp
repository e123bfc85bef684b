// Web sign-in over real storage: one-time login codes, the sessions they open, what ends a
// session, the per-user cap and the sweep of expired records (services/identity/web_sessions).
#include "services/identity/web_sessions.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "core_harness.hpp"
#include "runtime/api_error.hpp"
#include "runtime/crypto.hpp"
#include "runtime/time.hpp"
#include "storage/keys.hpp"
#include "storage/repository.hpp"

namespace vespid::auth {
namespace {

using core::Task;
using core::testing::StorageHarness;
using repo::OrgRole;

class WebSessionsTest : public ::testing::Test {
 protected:
  WebSessionsTest() : repo_(h_.storage()) {
    h_.run(repo_.migrate());
    org_ = h_.run(repo_.create_org("acme"));
    user_ = h_.run(repo_.create_user("alice", ""));
    h_.run(repo_.add_member(org_.id, user_.id, OrgRole::Member));
  }

  WebSessions sessions(WebSessionSettings s = {}) { return WebSessions(h_.storage(), repo_, s); }

  template <class T>
  T run(Task<T> t) {
    return h_.run(std::move(t));
  }

  // run() for a task with no value (the harness wants one).
  void run_void(Task<void> t) {
    auto wrapped = [](Task<void> inner) -> Task<int> {
      co_await std::move(inner);
      co_return 0;
    };
    run(wrapped(std::move(t)));
  }

  // The ApiError a task ends with ("" code when it succeeds).
  template <class T>
  api::ApiError failure(Task<T> t) {
    try {
      run(std::move(t));
    } catch (const api::ApiError& e) {
      return e;
    }
    return api::ApiError("", "it succeeded");
  }

  // Every stored key and value under the web sign-in's ranges, as one text.
  std::string stored_web_records() {
    auto scan = [](core::StorageService& s) -> Task<std::string> {
      std::string all;
      for (const char* prefix :
           {"web-login/", "web-session/", "idx/user-web-sessions/", "idx/web-expiry/"}) {
        std::vector<core::KV> rows = co_await s.scan_prefix(prefix);
        for (const auto& r : rows) all += r.key + "=" + r.value + "\n";
      }
      co_return all;
    };
    return run(scan(h_.storage()));
  }

  StorageHarness h_;
  repo::Repository repo_;
  repo::Org org_;
  repo::User user_;
};

TEST_F(WebSessionsTest, ALoginCodeOpensOneSessionOnceAndOnlyHashesAreStored) {
  WebSessions w = sessions();
  IssuedLoginCode code = run(w.issue_login_code(user_.id, ""));
  ASSERT_EQ(code.code.size(), 4u + 16 + 1 + 43) << "256 random bits after the id";
  EXPECT_EQ(code.code.rfind("vwl_", 0), 0u);

  OpenedWebSession opened = run(w.redeem_login_code(code.code));
  EXPECT_EQ(opened.session.user_id, user_.id);
  EXPECT_TRUE(opened.session.org_id.empty());
  EXPECT_EQ(opened.cookie_value.rfind("vws_", 0), 0u);

  // Neither secret is at rest, only their hashes.
  const std::string at_rest = stored_web_records();
  EXPECT_EQ(at_rest.find(code.code.substr(21)), std::string::npos);
  EXPECT_EQ(at_rest.find(opened.cookie_value.substr(21)), std::string::npos);
  EXPECT_NE(at_rest.find(crypto::sha256_hex(opened.cookie_value)), std::string::npos);

  // Single use.
  api::ApiError again = failure(w.redeem_login_code(code.code));
  EXPECT_EQ(again.code(), "UNAUTHORIZED");
  EXPECT_EQ(again.details().value("reason", ""), "LOGIN_CODE_INVALID");
  EXPECT_NE(std::string(again.what()).find("vespid web login"), std::string::npos) << again.what();

  std::optional<WebSession> ok = run(w.verify(opened.cookie_value));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->id, opened.session.id);
  core::Principal who = WebSessions::principal_of(*ok);
  EXPECT_EQ(who.role, core::Role::Operator);
  EXPECT_EQ(who.user_id, user_.id);
  EXPECT_EQ(who.token_id, "web-session/" + ok->id);
  EXPECT_EQ(who.expires_at_ms, ok->expires_at_ms);

  std::string flipped = opened.cookie_value;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(run(w.verify(flipped))) << "same id, wrong secret";
  EXPECT_FALSE(run(w.verify("")));
  EXPECT_FALSE(run(w.verify(code.code))) << "a login code is not a session";
  EXPECT_EQ(failure(w.redeem_login_code(opened.cookie_value)).code(), "UNAUTHORIZED");
}

TEST_F(WebSessionsTest, AnExpiredLoginCodeIsRefusedAsExpired) {
  WebSessionSettings s;
  s.login_code_ttl_ms = 1;
  WebSessions w = sessions(s);
  IssuedLoginCode code = run(w.issue_login_code(user_.id, ""));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  api::ApiError e = failure(w.redeem_login_code(code.code));
  EXPECT_EQ(e.code(), "UNAUTHORIZED");
  EXPECT_EQ(e.details().value("reason", ""), "LOGIN_CODE_EXPIRED");
  EXPECT_NE(std::string(e.what()).find("expired"), std::string::npos) << e.what();
  EXPECT_EQ(stored_web_records(), "") << "the expired code is gone, not left to be swept";
}

TEST_F(WebSessionsTest, AnOrgBoundSessionEndsWhenItsMembershipGoes) {
  WebSessions w = sessions();
  repo::Org other = run(repo_.create_org("globex"));
  EXPECT_EQ(failure(w.issue_login_code(user_.id, other.id)).code(), "INVALID_REQUEST")
      << "not a member of globex";
  EXPECT_EQ(failure(w.issue_login_code("no-such-user", "")).code(), "NOT_FOUND");

  IssuedLoginCode code = run(w.issue_login_code(user_.id, org_.id));
  OpenedWebSession opened = run(w.redeem_login_code(code.code));
  EXPECT_EQ(opened.session.org_id, org_.id);
  EXPECT_EQ(WebSessions::principal_of(opened.session).org_id, org_.id);
  ASSERT_TRUE(run(w.verify(opened.cookie_value)));

  run_void(repo_.remove_member(org_.id, user_.id));
  EXPECT_FALSE(run(w.verify(opened.cookie_value)));
  run(repo_.add_member(org_.id, user_.id, OrgRole::Member));
  EXPECT_FALSE(run(w.verify(opened.cookie_value))) << "ended for good, not paused";
}

TEST_F(WebSessionsTest, ACodeForAMembershipRemovedBeforeUseOpensNothing) {
  WebSessions w = sessions();
  IssuedLoginCode code = run(w.issue_login_code(user_.id, org_.id));
  run_void(repo_.remove_member(org_.id, user_.id));
  api::ApiError e = failure(w.redeem_login_code(code.code));
  EXPECT_EQ(e.code(), "UNAUTHORIZED");
  EXPECT_NE(std::string(e.what()).find("no longer a member"), std::string::npos) << e.what();
}

TEST_F(WebSessionsTest, ASessionExpiresAtAFixedTimeHoweverOftenItIsUsed) {
  WebSessionSettings s;
  s.session_ttl_ms = 300;
  WebSessions w = sessions(s);
  OpenedWebSession opened = run(w.redeem_login_code(run(w.issue_login_code(user_.id, "")).code));
  const int64_t expires = opened.session.expires_at_ms;
  for (int i = 0; i < 3; ++i) {
    std::optional<WebSession> ok = run(w.verify(opened.cookie_value));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->expires_at_ms, expires) << "use does not extend it";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(run(w.verify(opened.cookie_value)));
}

TEST_F(WebSessionsTest, ASessionOpenedWithAnAccessTokenEndsWithTheToken) {
  WebSessions w = sessions();
  auto token = run(repo_.create_access_token(user_.id, org_.id, "laptop", 3600));
  OpenedWebSession opened = run(w.open_with_access_token(token.secret_token));
  EXPECT_EQ(opened.session.access_token_id, token.record.id);
  EXPECT_EQ(opened.session.org_id, org_.id) << "the token's org binding carries over";
  EXPECT_LE(opened.session.expires_at_ms, token.record.expires_at_ms) << "never outlives the token";
  EXPECT_EQ(WebSessions::principal_of(opened.session).parent_token_id, token.record.id);
  ASSERT_TRUE(run(w.verify(opened.cookie_value)));

  run(repo_.revoke_access_token(token.record.id));
  EXPECT_FALSE(run(w.verify(opened.cookie_value)));
  EXPECT_EQ(failure(w.open_with_access_token(token.secret_token)).code(), "UNAUTHORIZED");
  EXPECT_EQ(failure(w.open_with_access_token("vat_nonsense")).code(), "UNAUTHORIZED");
}

TEST_F(WebSessionsTest, EndingASessionSignsItOut) {
  WebSessions w = sessions();
  OpenedWebSession opened = run(w.redeem_login_code(run(w.issue_login_code(user_.id, "")).code));
  EXPECT_TRUE(run(w.end(opened.session.id)));
  EXPECT_FALSE(run(w.verify(opened.cookie_value)));
  EXPECT_FALSE(run(w.end(opened.session.id))) << "already gone";
  EXPECT_EQ(stored_web_records(), "") << "record, user index and expiry entry all deleted";
}

TEST_F(WebSessionsTest, SigningInBeyondTheCapEndsTheOldestSessions) {
  WebSessionSettings s;
  s.max_sessions_per_user = 2;
  WebSessions w = sessions(s);
  std::vector<OpenedWebSession> opened;
  for (int i = 0; i < 3; ++i) {
    opened.push_back(run(w.redeem_login_code(run(w.issue_login_code(user_.id, "")).code)));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // distinct creation times
  }
  EXPECT_TRUE(opened[0].displaced_ids.empty());
  EXPECT_TRUE(opened[1].displaced_ids.empty());
  ASSERT_EQ(opened[2].displaced_ids.size(), 1u);
  EXPECT_EQ(opened[2].displaced_ids[0], opened[0].session.id);
  EXPECT_FALSE(run(w.verify(opened[0].cookie_value)));
  EXPECT_TRUE(run(w.verify(opened[1].cookie_value)));
  EXPECT_TRUE(run(w.verify(opened[2].cookie_value)));
}

TEST_F(WebSessionsTest, TheSweepRemovesExpiredCodesAndSessions) {
  WebSessionSettings s;
  s.login_code_ttl_ms = 1;
  s.session_ttl_ms = 1;
  WebSessions w = sessions(s);
  WebSessionSettings lasting;
  WebSessions long_lived = sessions(lasting);
  OpenedWebSession kept =
      run(long_lived.redeem_login_code(run(long_lived.issue_login_code(user_.id, "")).code));
  IssuedLoginCode lasting_code = run(long_lived.issue_login_code(user_.id, ""));
  run(w.issue_login_code(user_.id, ""));        // a code that expires unused
  run(w.redeem_login_code(lasting_code.code));  // a session that expires at once
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(run(w.sweep_expired(util::now_ms(), 100)), 2) << stored_web_records();
  const std::string left = stored_web_records();
  EXPECT_NE(left.find("web-session/" + kept.session.id), std::string::npos);
  EXPECT_EQ(left.find("web-login/"), std::string::npos) << left;
  EXPECT_EQ(run(w.sweep_expired(util::now_ms(), 100)), 0);
}

}  // namespace
}  // namespace vespid::auth
