#include "services/identity/web_sessions.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "runtime/api_error.hpp"
#include "runtime/crypto.hpp"
#include "runtime/logging.hpp"
#include "runtime/time.hpp"
#include "storage/keys.hpp"
#include "storage/model.hpp"
#include "storage/repository.hpp"
#include "storage/storage_service.hpp"

namespace vespid::auth {

using core::Compare;
using core::Task;
using core::Txn;
using core::Write;
using nlohmann::json;
namespace keys = repo::keys;

namespace {

// "<prefix><16 hex id>_<43 base64url>" (32 random bytes: 256 bits). The id finds the record;
// the whole string is what is hashed.
constexpr std::string_view kLoginCodePrefix = "vwl_";
constexpr std::string_view kSessionPrefix = "vws_";
constexpr size_t kIdLen = 16;
constexpr size_t kSecretLen = 43;
// Expired records deleted per sweep: bounded work on the path of a sign-in.
constexpr int kSweepBatch = 32;

std::string new_secret(std::string_view prefix, const std::string& id) {
  return std::string(prefix) + id + "_" + crypto::base64url(crypto::random_bytes(32));
}

// The id inside a presented secret, or nullopt when it is not of that form.
std::optional<std::string> id_in(std::string_view presented, std::string_view prefix) {
  if (presented.size() != prefix.size() + kIdLen + 1 + kSecretLen) return std::nullopt;
  if (presented.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view id = presented.substr(prefix.size(), kIdLen);
  if (id.find_first_not_of("0123456789abcdef") != std::string_view::npos) return std::nullopt;
  if (presented[prefix.size() + kIdLen] != '_') return std::nullopt;
  return std::string(id);
}

json stored(const WebSession& s) {
  json j = {{"id", s.id},
            {"userId", s.user_id},
            {"hash", s.hash_hex},
            {"createdMs", s.created_ms},
            {"expiresAtMs", s.expires_at_ms}};
  if (!s.org_id.empty()) j["orgId"] = s.org_id;
  if (!s.access_token_id.empty()) j["accessTokenId"] = s.access_token_id;
  return j;
}

WebSession session_from(const json& j) {
  WebSession s;
  s.id = j.at("id").get<std::string>();
  s.user_id = j.at("userId").get<std::string>();
  s.hash_hex = j.at("hash").get<std::string>();
  s.created_ms = j.value("createdMs", int64_t{0});
  s.expires_at_ms = j.value("expiresAtMs", int64_t{0});
  s.org_id = j.value("orgId", "");
  s.access_token_id = j.value("accessTokenId", "");
  return s;
}

api::ApiError code_refused(const std::string& why, const char* reason) {
  return api::ApiError("UNAUTHORIZED",
                       "this sign-in link " + why +
                           "; run `vespid web login --user <name>` on the gateway's machine "
                           "for a new one",
                       {{"reason", reason}});
}

std::shared_ptr<spdlog::logger> L() {
  return log::get("core");
}

}  // namespace

WebSessions::WebSessions(core::StorageService& storage, repo::Repository& repo,
                         WebSessionSettings settings)
    : storage_(storage), repo_(repo), settings_(settings) {}

std::string WebSessions::credential_id(const std::string& session_id) {
  return "web-session/" + session_id;
}

core::Principal WebSessions::principal_of(const WebSession& s) {
  core::Principal p{core::Role::Operator, s.user_id, credential_id(s.id), s.org_id,
                    s.expires_at_ms};
  p.parent_token_id = s.access_token_id;
  return p;
}

// ---- Login codes ----

Task<IssuedLoginCode> WebSessions::issue_login_code(std::string user_id, std::string org_id) {
  Task<void> swept = sweep_quietly();
  co_await std::move(swept);
  IssuedLoginCode issued;
  const std::string id = crypto::hex(crypto::random_bytes(kIdLen / 2));
  issued.code = new_secret(kLoginCodePrefix, id);
  issued.user_id = user_id;
  issued.org_id = org_id;
  issued.expires_at_ms = util::now_ms() + settings_.login_code_ttl_ms;
  json rec = {{"hash", crypto::sha256_hex(issued.code)},
              {"userId", user_id},
              {"expiresAtMs", issued.expires_at_ms},
              {"createdAt", util::now_iso8601()}};
  if (!org_id.empty()) rec["orgId"] = org_id;
  Txn txn;
  txn.compares.push_back(Compare::present(keys::user(user_id)));
  if (!org_id.empty()) txn.compares.push_back(Compare::present(keys::member(org_id, user_id)));
  txn.compares.push_back(Compare::absent(keys::web_login_code(id)));
  txn.writes.push_back(Write::put(keys::web_login_code(id), rec.dump()));
  txn.writes.push_back(
      Write::put(keys::web_expiry(issued.expires_at_ms, keys::web_login_code(id)), ""));
  core::TxnOutcome out = co_await storage_.commit(std::move(txn));
  if (!out.applied) {
    if (out.failed_compare == 0) throw api::not_found("no such user");
    if (!org_id.empty() && out.failed_compare == 1) {
      throw api::invalid(
          "the user is not a member of that org; add them first (vespid member add)");
    }
    throw api::conflict("login code id collision; try again");
  }
  co_return issued;
}

Task<OpenedWebSession> WebSessions::redeem_login_code(std::string code) {
  std::optional<std::string> id = id_in(code, kLoginCodePrefix);
  // Hashed even when the form is wrong, so that every refusal costs about the same.
  const std::string hash = crypto::sha256_hex(code);
  if (!id) throw code_refused("is not one this gateway issued", "LOGIN_CODE_INVALID");
  std::optional<core::KV> row = co_await storage_.get(keys::web_login_code(*id));
  if (!row) {
    // Consumed codes are deleted: a used one and a made-up one look the same from here.
    throw code_refused("was already used, or is not one this gateway issued", "LOGIN_CODE_INVALID");
  }
  const json rec = json::parse(row->value);
  if (!crypto::equal_ct(hash, rec.at("hash").get<std::string>())) {
    throw code_refused("was already used, or is not one this gateway issued", "LOGIN_CODE_INVALID");
  }
  const int64_t expires_at = rec.at("expiresAtMs").get<int64_t>();
  if (util::now_ms() >= expires_at) {
    Txn gone;
    gone.compares.push_back(Compare::version_is(keys::web_login_code(*id), row->version));
    gone.writes.push_back(Write::del(keys::web_login_code(*id)));
    gone.writes.push_back(Write::del(keys::web_expiry(expires_at, keys::web_login_code(*id))));
    core::TxnOutcome out = co_await storage_.commit(std::move(gone));
    static_cast<void>(out);  // someone else removed it first: as good
    throw code_refused("has expired (links are good for web.login_code_ttl_ms)",
                       "LOGIN_CODE_EXPIRED");
  }

  WebSession draft;
  draft.user_id = rec.at("userId").get<std::string>();
  draft.org_id = rec.value("orgId", "");
  draft.created_ms = util::now_ms();
  draft.expires_at_ms = draft.created_ms + settings_.session_ttl_ms;
  Task<std::vector<std::string>> room = make_room(draft.user_id);
  std::vector<std::string> displaced = co_await std::move(room);

  OpenedWebSession opened;
  opened.displaced_ids = std::move(displaced);
  draft.id = crypto::hex(crypto::random_bytes(kIdLen / 2));
  opened.cookie_value = new_secret(kSessionPrefix, draft.id);
  draft.hash_hex = crypto::sha256_hex(opened.cookie_value);
  Txn txn;
  // The code is consumed only if nobody consumed it since it was read: one session per code.
  txn.compares.push_back(Compare::version_is(keys::web_login_code(*id), row->version));
  txn.compares.push_back(Compare::present(keys::user(draft.user_id)));
  if (!draft.org_id.empty()) {
    txn.compares.push_back(Compare::present(keys::member(draft.org_id, draft.user_id)));
  }
  txn.compares.push_back(Compare::absent(keys::web_session(draft.id)));
  txn.writes.push_back(Write::del(keys::web_login_code(*id)));
  txn.writes.push_back(Write::del(keys::web_expiry(expires_at, keys::web_login_code(*id))));
  txn.writes.push_back(Write::put(keys::web_session(draft.id), stored(draft).dump()));
  txn.writes.push_back(Write::put(keys::user_web_session(draft.user_id, draft.id), ""));
  txn.writes.push_back(
      Write::put(keys::web_expiry(draft.expires_at_ms, keys::web_session(draft.id)), ""));
  core::TxnOutcome out = co_await storage_.commit(std::move(txn));
  if (!out.applied) {
    if (out.failed_compare == 0) {
      throw code_refused("was already used, or is not one this gateway issued",
                         "LOGIN_CODE_INVALID");
    }
    if (out.failed_compare == 1) {
      throw code_refused("was made for a user who no longer exists", "LOGIN_CODE_INVALID");
    }
    if (!draft.org_id.empty() && out.failed_compare == 2) {
      throw code_refused("was made for an org its user is no longer a member of",
                         "LOGIN_CODE_INVALID");
    }
    throw api::conflict("session id collision; try again");
  }
  opened.session = std::move(draft);
  co_return opened;
}

// ---- Sessions ----

Task<OpenedWebSession> WebSessions::open_with_access_token(std::string access_token) {
  Task<std::optional<repo::AccessToken>> verified = repo_.verify_access_token(access_token);
  std::optional<repo::AccessToken> token = co_await std::move(verified);
  if (!token) {
    throw api::unauthorized("the access token is not valid (unknown, revoked or expired)");
  }
  Task<void> swept = sweep_quietly();
  co_await std::move(swept);
  WebSession draft;
  draft.user_id = token->user_id;
  draft.org_id = token->org_id;
  draft.access_token_id = token->id;
  draft.created_ms = util::now_ms();
  draft.expires_at_ms = draft.created_ms + settings_.session_ttl_ms;
  if (token->expires_at_ms != 0)
    draft.expires_at_ms = std::min(draft.expires_at_ms, token->expires_at_ms);
  Task<std::vector<std::string>> room = make_room(draft.user_id);
  std::vector<std::string> displaced = co_await std::move(room);

  OpenedWebSession opened;
  opened.displaced_ids = std::move(displaced);
  draft.id = crypto::hex(crypto::random_bytes(kIdLen / 2));
  opened.cookie_value = new_secret(kSessionPrefix, draft.id);
  draft.hash_hex = crypto::sha256_hex(opened.cookie_value);
  Txn txn;
  txn.compares.push_back(Compare::present(keys::user(draft.user_id)));
  txn.compares.push_back(Compare::present(keys::access_token(token->id)));
  txn.compares.push_back(Compare::absent(keys::web_session(draft.id)));
  txn.writes.push_back(Write::put(keys::web_session(draft.id), stored(draft).dump()));
  txn.writes.push_back(Write::put(keys::user_web_session(draft.user_id, draft.id), ""));
  txn.writes.push_back(
      Write::put(keys::web_expiry(draft.expires_at_ms, keys::web_session(draft.id)), ""));
  core::TxnOutcome out = co_await storage_.commit(std::move(txn));
  if (!out.applied) {
    if (out.failed_compare < 2) {
      throw api::unauthorized("the access token is not valid (unknown, revoked or expired)");
    }
    throw api::conflict("session id collision; try again");
  }
  opened.session = std::move(draft);
  co_return opened;
}

Task<std::optional<WebSession>> WebSessions::verify(std::string cookie_value) {
  std::optional<std::string> id = id_in(cookie_value, kSessionPrefix);
  const std::string hash = crypto::sha256_hex(cookie_value);
  if (!id) co_return std::nullopt;
  std::optional<core::KV> row = co_await storage_.get(keys::web_session(*id));
  if (!row) co_return std::nullopt;
  WebSession s = session_from(json::parse(row->value));
  if (!crypto::equal_ct(hash, s.hash_hex)) co_return std::nullopt;

  // Still good? Each failed check ends the session for good, not just this request.
  std::string ended_because;
  std::optional<core::KV> user = co_await storage_.get(keys::user(s.user_id));
  if (util::now_ms() >= s.expires_at_ms) {
    ended_because = "expired";
  } else if (!user) {
    ended_because = "its user was removed";
  } else if (!s.org_id.empty()) {
    std::optional<core::KV> member = co_await storage_.get(keys::member(s.org_id, s.user_id));
    if (!member) ended_because = "its user was removed from its org";
  }
  if (ended_because.empty() && !s.access_token_id.empty()) {
    std::optional<core::KV> tok = co_await storage_.get(keys::access_token(s.access_token_id));
    bool token_good = false;
    if (tok) {
      const repo::AccessToken t = repo::token_from(json::parse(tok->value));
      token_good = !t.revoked && (t.expires_at_ms == 0 || util::now_ms() < t.expires_at_ms);
    }
    if (!token_good) ended_because = "the access token that opened it is no longer valid";
  }
  if (!ended_because.empty()) {
    L()->info("web session {} of user {} ended: {}", s.id, s.user_id, ended_because);
    Task<void> forgotten = forget(s.id);
    co_await std::move(forgotten);
    co_return std::nullopt;
  }
  co_return s;
}

Task<bool> WebSessions::end(std::string session_id) {
  std::optional<core::KV> row = co_await storage_.get(keys::web_session(session_id));
  if (!row) co_return false;
  Task<void> forgotten = forget(session_id);
  co_await std::move(forgotten);
  co_return true;
}

Task<void> WebSessions::forget(std::string session_id) {
  std::optional<core::KV> row = co_await storage_.get(keys::web_session(session_id));
  if (!row) co_return;
  const WebSession s = session_from(json::parse(row->value));
  Txn txn;
  txn.writes.push_back(Write::del(keys::web_session(s.id)));
  txn.writes.push_back(Write::del(keys::user_web_session(s.user_id, s.id)));
  txn.writes.push_back(Write::del(keys::web_expiry(s.expires_at_ms, keys::web_session(s.id))));
  core::TxnOutcome out = co_await storage_.commit(std::move(txn));
  static_cast<void>(out);  // no compares: always applied
}

Task<std::vector<std::string>> WebSessions::make_room(std::string user_id) {
  const std::string prefix = keys::user_web_sessions(user_id);
  std::vector<core::KV> rows = co_await storage_.scan_prefix(prefix);
  std::vector<WebSession> live;
  for (const auto& r : rows) {
    const std::string id = r.key.substr(prefix.size());
    std::optional<core::KV> rec = co_await storage_.get(keys::web_session(id));
    if (rec) {
      live.push_back(session_from(json::parse(rec->value)));
    } else {
      Txn stale;  // an index entry whose session is gone
      stale.writes.push_back(Write::del(r.key));
      core::TxnOutcome out = co_await storage_.commit(std::move(stale));
      static_cast<void>(out);
    }
  }
  std::vector<std::string> ended;
  const size_t keep = static_cast<size_t>(std::max(0, settings_.max_sessions_per_user - 1));
  if (live.size() <= keep) co_return ended;
  std::sort(live.begin(), live.end(),
            [](const WebSession& a, const WebSession& b) { return a.created_ms < b.created_ms; });
  for (size_t i = 0; i < live.size() - keep; ++i) {
    Task<void> forgotten = forget(live[i].id);
    co_await std::move(forgotten);
    ended.push_back(live[i].id);
  }
  L()->info("user {} is at web.max_sessions_per_user ({}): {} oldest web session(s) ended", user_id,
            settings_.max_sessions_per_user, ended.size());
  co_return ended;
}

Task<int> WebSessions::sweep_expired(int64_t now_ms, int limit) {
  const std::string end = keys::kWebExpiryPrefix + keys::padded(static_cast<uint64_t>(now_ms));
  std::vector<core::KV> due =
      co_await storage_.scan(keys::kWebExpiryPrefix, end, static_cast<uint32_t>(limit));
  int removed = 0;
  // "idx/web-expiry/<16 digits>/<record key>"
  const size_t record_at = keys::kWebExpiryPrefix.size() + 16 + 1;
  for (const auto& entry : due) {
    if (entry.key.size() <= record_at) continue;
    const std::string record_key = entry.key.substr(record_at);
    Txn txn;
    txn.writes.push_back(Write::del(entry.key));
    std::optional<core::KV> rec = co_await storage_.get(record_key);
    if (rec) {
      txn.compares.push_back(Compare::version_is(record_key, rec->version));
      txn.writes.push_back(Write::del(record_key));
      if (record_key.rfind(keys::web_session(""), 0) == 0) {
        const WebSession s = session_from(json::parse(rec->value));
        txn.writes.push_back(Write::del(keys::user_web_session(s.user_id, s.id)));
      }
    }
    core::TxnOutcome out = co_await storage_.commit(std::move(txn));
    if (out.applied) ++removed;
  }
  co_return removed;
}

Task<void> WebSessions::sweep_quietly() {
  try {
    Task<int> t = sweep_expired(util::now_ms(), kSweepBatch);
    const int removed = co_await std::move(t);
    if (removed > 0) L()->debug("{} expired web login code(s) and session(s) removed", removed);
  } catch (const std::exception& e) {
    // Housekeeping: a store that cannot take it now must not refuse a sign-in.
    L()->warn("could not remove expired web sign-in records: {}", e.what());
  }
}

}  // namespace vespid::auth
