#include "services/node_hosts/node_host_store.hpp"

#include <algorithm>
#include <charconv>

#include "runtime/api_error.hpp"
#include "runtime/crypto.hpp"
#include "runtime/gateway_metrics.hpp"
#include "runtime/time.hpp"
#include "services/nodes/node_store.hpp"
#include "storage/keys.hpp"

namespace vespid::node_hosts {

using core::Compare;
using core::Task;
using core::Txn;
using core::Write;
using nlohmann::json;
namespace keys = repo::keys;

namespace {

api::ApiError invalid_pairing_token() {
  return {"PAIRING_TOKEN_INVALID",
          "the pairing token is unknown, already used or expired; ask an org admin for a new one"};
}

void check_tags(const std::vector<std::string>& tags) {
  if (tags.size() > 64) throw api::invalid("at most 64 tags");
  for (const auto& t : tags) {
    if (t.empty() || t.size() > 64 || t.find_first_of(" ,\t\n") != std::string::npos) {
      throw api::invalid("tags are 1 to 64 characters without spaces or commas: \"" + t + "\"");
    }
  }
}

}  // namespace

std::string org_of_token(const std::string& token) {
  auto dot = token.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 >= token.size()) return {};
  return token.substr(0, dot);
}

Task<std::vector<PairingTokenLedger::Entry>> NodeHostStore::scan_pairing_tokens(
    std::string org_id) {
  const std::string prefix = keys::org_agent_pairing_tokens(org_id);
  auto rows = co_await storage_.scan_prefix(prefix);
  std::vector<PairingTokenLedger::Entry> out;
  out.reserve(rows.size());
  for (auto& r : rows) {
    PairingTokenLedger::Entry e{r.key.substr(prefix.size()), 0};
    // The index row carries the expiry; rows written before it did are read through.
    auto [end, ec] =
        std::from_chars(r.value.data(), r.value.data() + r.value.size(), e.expires_at_ms);
    if (ec != std::errc() || end != r.value.data() + r.value.size()) {
      auto rec = co_await storage_.get(keys::agent_pairing_token(e.hash));
      e.expires_at_ms = rec ? json::parse(rec->value).value("expiresAtMs", int64_t{0}) : 0;
    }
    out.push_back(std::move(e));
  }
  co_return out;
}

Task<void> NodeHostStore::refresh_pairing_tokens(std::string org_id, bool rescan) {
  if (rescan || !ledger_.has(org_id)) {
    auto tokens = co_await scan_pairing_tokens(org_id);
    // Another mint of this org may have filled the entry while this scan ran; a rescan
    // replaces it.
    if (rescan || !ledger_.has(org_id)) ledger_.load(org_id, tokens);
  }
  std::vector<std::string> expired;
  ledger_.live(org_id, util::now_ms(), expired);
  if (expired.empty()) co_return;
  // Best effort: an expired token is refused at pairing whether or not its rows remain.
  Txn cleanup;
  for (const auto& hash : expired) {
    cleanup.writes.push_back(Write::del(keys::org_agent_pairing_token(org_id, hash)));
    cleanup.writes.push_back(Write::del(keys::agent_pairing_token(hash)));
  }
  co_await storage_.commit(std::move(cleanup));
}

std::size_t NodeHostStore::live_pairing_tokens(const std::string& org_id) {
  // Tokens that expired since the last refresh are deleted at the next one.
  return ledger_.count_live(org_id, util::now_ms());
}

Task<PairingToken> NodeHostStore::create_pairing_token(std::string org_id, std::string created_by) {
  const auto limit = static_cast<std::size_t>(std::max(0, limits_.max_pairing_tokens_per_org));
  co_await refresh_pairing_tokens(org_id, false);
  // Counted with no suspension between the count and the reservation below, so mints of one
  // org in flight at once see each other.
  std::size_t live = live_pairing_tokens(org_id);
  if (live >= limit) {
    // Full by this instance's count: look again at storage, since another instance may have
    // used some (or made more) since this one last looked.
    co_await refresh_pairing_tokens(org_id, true);
    live = live_pairing_tokens(org_id);
  }
  if (live >= limit) {
    throw api::unavailable("this org has " + std::to_string(live) +
                           " unused pairing tokens (agents.max_pairing_tokens_per_org); use one "
                           "or wait for them to expire");
  }

  int64_t now = util::now_ms();
  PairingToken out;
  out.token = org_id + "." + crypto::base64url(crypto::random_bytes(32));
  out.expires_at_ms = now + limits_.pairing_token_ttl_ms;
  std::string hash = crypto::sha256_hex(out.token);
  json rec = {{"orgId", org_id},
              {"createdBy", created_by},
              {"createdAt", util::iso8601(now)},
              {"expiresAtMs", out.expires_at_ms}};
  Txn txn;
  txn.compares.push_back(Compare::present(keys::org(org_id)));
  txn.writes.push_back(Write::put(keys::agent_pairing_token(hash), rec.dump()));
  txn.writes.push_back(
      Write::put(keys::org_agent_pairing_token(org_id, hash), std::to_string(out.expires_at_ms)));
  ledger_.add(org_id, {hash, out.expires_at_ms});
  core::TxnOutcome res;
  try {
    res = co_await storage_.commit(std::move(txn));
  } catch (...) {
    ledger_.remove(org_id, hash);
    throw;
  }
  if (!res.applied) {
    ledger_.remove(org_id, hash);
    throw api::not_found("no org \"" + org_id + "\"");
  }
  metrics::instruments().pairing_tokens_minted.inc();
  co_return out;
}

Task<Paired> NodeHostStore::pair(PairRequest req) {
  if (req.name.empty() || req.name.size() > 120) {
    throw api::invalid("name is required (1 to 120 characters)", {{"field", "name"}});
  }
  if (req.agent_version.empty() || req.agent_version.size() > 64) {
    throw api::invalid("agentVersion is required (1 to 64 characters)",
                       {{"field", "agentVersion"}});
  }
  check_tags(req.tags);
  std::sort(req.tags.begin(), req.tags.end());  // as PUT .../tags stores them
  req.tags.erase(std::unique(req.tags.begin(), req.tags.end()), req.tags.end());
  std::string org_id = org_of_token(req.pairing_token);
  if (org_id.empty()) throw invalid_pairing_token();
  std::string pt_hash = crypto::sha256_hex(req.pairing_token);
  auto rec = co_await storage_.get(keys::agent_pairing_token(pt_hash));
  if (!rec) throw invalid_pairing_token();
  json pt = json::parse(rec->value);
  // The hash matched a stored key, so the token is right; the org prefix must agree too.
  if (pt.value("orgId", "") != org_id || pt.value("expiresAtMs", int64_t{0}) <= util::now_ms()) {
    throw invalid_pairing_token();
  }

  Paired out;
  out.agent_token = org_id + "." + crypto::base64url(crypto::random_bytes(32));
  std::string token_hash = crypto::sha256_hex(out.agent_token);
  nodes::NodeRecord& a = out.agent;
  a.node_id = crypto::uuid_v4();
  a.org_id = org_id;
  a.kind = "agent";
  a.display_name = req.name;
  a.version = req.agent_version;
  a.capabilities = req.capabilities.is_object() ? req.capabilities : json::object();
  a.tags = req.tags;
  a.token_sha256 = token_hash;
  a.paired_at = util::now_iso8601();

  // Consuming the token and creating the agent are one transaction: the compare on the token's
  // version lets exactly one of two concurrent pairs through.
  Txn txn;
  txn.compares.push_back(Compare::version_is(keys::agent_pairing_token(pt_hash), rec->version));
  txn.compares.push_back(Compare::present(keys::org(org_id)));
  txn.writes.push_back(Write::del(keys::agent_pairing_token(pt_hash)));
  txn.writes.push_back(Write::del(keys::org_agent_pairing_token(org_id, pt_hash)));
  txn.writes.push_back(Write::put(keys::node(a.node_id), nodes::to_stored_json(a).dump()));
  txn.writes.push_back(Write::put(keys::org_node(org_id, a.node_id), ""));
  txn.writes.push_back(Write::put(keys::agent_token(token_hash), a.node_id));
  auto res = co_await storage_.commit(std::move(txn));
  if (!res.applied) throw invalid_pairing_token();
  ledger_.remove(org_id, pt_hash);
  metrics::instruments().pairing_tokens_used.inc();
  co_return out;
}

Task<NodeHostStore::Check> NodeHostStore::check_token(std::string agent_token) {
  std::string org_id = org_of_token(agent_token);
  std::string hash = crypto::sha256_hex(agent_token);
  if (org_id.empty()) co_return Check{Verdict::Unauthorized, std::nullopt};
  auto idx = co_await storage_.get(keys::agent_token(hash));
  if (!idx) co_return Check{Verdict::Unauthorized, std::nullopt};
  auto kv = co_await storage_.get(keys::node(idx->value));
  if (!kv) co_return Check{Verdict::Unauthorized, std::nullopt};
  nodes::NodeRecord n = nodes::node_from(json::parse(kv->value));
  if (n.revoked) co_return Check{Verdict::Revoked, std::nullopt};
  if (n.kind != "agent" || n.org_id != org_id || !crypto::equal_ct(hash, n.token_sha256)) {
    co_return Check{Verdict::Unauthorized, std::nullopt};
  }
  co_return Check{Verdict::Ok, std::move(n)};
}

Task<void> NodeHostStore::record_hello(std::string agent_id, std::string agent_version,
                                       json capabilities) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto kv = co_await storage_.get(keys::node(agent_id));
    if (!kv) co_return;
    nodes::NodeRecord n = nodes::node_from(json::parse(kv->value));
    if (!agent_version.empty()) n.version = agent_version.substr(0, 64);
    if (capabilities.is_object()) n.capabilities = capabilities;  // null: keep the stored ones
    n.last_seen_at = util::now_iso8601();
    Txn txn;
    txn.compares.push_back(Compare::version_is(keys::node(agent_id), kv->version));
    txn.writes.push_back(Write::put(keys::node(agent_id), nodes::to_stored_json(n).dump()));
    auto res = co_await storage_.commit(std::move(txn));
    if (res.applied) co_return;
  }
  // Losing every race here only loses a hint and a timestamp.
}

}  // namespace vespid::node_hosts
