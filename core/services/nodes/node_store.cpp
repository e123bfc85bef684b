#include "services/nodes/node_store.hpp"

#include <algorithm>

#include "runtime/api_error.hpp"
#include "runtime/crypto.hpp"
#include "runtime/gateway_metrics.hpp"
#include "runtime/time.hpp"
#include "storage/keys.hpp"

namespace vespid::nodes {

using core::Compare;
using core::Task;
using core::Txn;
using core::Write;
using nlohmann::json;
namespace keys = repo::keys;

namespace {

api::ApiError node_host_id(const std::string& node_id) {
  return api::forbidden("\"" + node_id +
                        "\" is a node host's id; node hosts pair with a pairing token and "
                        "connect to /ws, not to the bridge");
}

using metrics::PairingKind;

// An operator's decision on a pairing or re-approval request, once it is stored.
void decided(PairingKind kind, metrics::PairingDecision decision) {
  metrics::instruments().pairing_requests[kind][decision].inc();
}

}  // namespace

Task<std::optional<NodeRecord>> NodeStore::get(std::string node_id) {
  auto kv = co_await storage_.get(keys::node(node_id));
  if (!kv) co_return std::nullopt;
  co_return node_from(json::parse(kv->value));
}

Task<std::vector<NodeRecord>> NodeStore::list(std::string org_id) {
  std::vector<NodeRecord> out;
  if (org_id.empty()) {
    auto rows = co_await storage_.scan_prefix(keys::kNodePrefix);
    for (const auto& r : rows) out.push_back(node_from(json::parse(r.value)));
    co_return out;
  }
  std::string prefix = keys::nodes_of(org_id);
  auto ids = co_await storage_.scan_prefix(prefix);
  for (const auto& r : ids) {
    auto kv = co_await storage_.get(keys::node(r.key.substr(prefix.size())));
    if (kv) out.push_back(node_from(json::parse(kv->value)));
  }
  co_return out;
}

Task<PendingPairing> NodeStore::request_pairing(std::string node_id, json claims,
                                                std::string remote_address, bool silent,
                                                std::string owner) {
  // A node host's id cannot be taken over by pairing a bridge device under it.
  if (auto paired = co_await storage_.get(keys::node(node_id)); paired) {
    if (node_from(json::parse(paired->value)).kind != "bridge") throw node_host_id(node_id);
  }
  for (;;) {
    auto existing = co_await storage_.get(keys::pairing(node_id));
    int64_t now = util::now_ms();
    PendingPairing p;
    Txn txn;
    if (existing) {
      p = pending_from(json::parse(existing->value));
      txn.compares.push_back(Compare::version_is(keys::pairing(node_id), existing->version));
      if (p.expires_at_ms <= now || p.owner != owner) {
        // An expired request, or one made on another connection, is replaced by a new one with
        // a new id: an approval of the old id must not reach this requester.
        txn.writes.push_back(Write::del(keys::pairing_id(p.request_id)));
        p.request_id = crypto::uuid_v4();
        p.requested_at = util::iso8601(now);
        txn.writes.push_back(Write::put(keys::pairing_id(p.request_id), node_id));
      }
    } else {
      p.request_id = crypto::uuid_v4();
      p.node_id = node_id;
      p.requested_at = util::iso8601(now);
      txn.compares.push_back(Compare::absent(keys::pairing(node_id)));
      txn.writes.push_back(Write::put(keys::pairing_id(p.request_id), node_id));
    }
    p.claims = std::move(claims);
    p.remote_address = remote_address;
    p.silent = silent;
    p.owner = owner;
    // A re-approval it replaces decided less than a pairing does: none of it carries over.
    p.reapproval = false;
    p.added_commands.clear();
    p.approved_commands.clear();
    p.org_id.clear();
    p.expires_at_ms = now + limits_.pairing_ttl_ms;
    txn.writes.push_back(Write::put(keys::pairing(node_id), to_stored_json(p).dump()));
    auto out = co_await storage_.commit(std::move(txn));
    if (out.applied) {
      metrics::instruments().pairing_requests_received[metrics::PairingKind::Bridge].inc();
      co_return p;
    }
    // Raced with another request for the same node: read again and reuse it.
    claims = p.claims;
  }
}

Task<void> NodeStore::withdraw_pairing(std::string node_id, std::string owner) {
  auto kv = co_await storage_.get(keys::pairing(node_id));
  if (!kv) co_return;
  PendingPairing p = pending_from(json::parse(kv->value));
  if (p.owner != owner) co_return;  // replaced by another requester meanwhile
  Txn txn;
  txn.compares.push_back(Compare::version_is(keys::pairing(node_id), kv->version));
  txn.writes.push_back(Write::del(keys::pairing(node_id)));
  txn.writes.push_back(Write::del(keys::pairing_id(p.request_id)));
  co_await storage_.commit(std::move(txn));  // lost a race: the record is someone else's now
}

Task<std::vector<PendingPairing>> NodeStore::list_pending() {
  auto rows = co_await storage_.scan_prefix(keys::kPairingPrefix);
  int64_t now = util::now_ms();
  std::vector<PendingPairing> out;
  Txn cleanup;
  for (const auto& r : rows) {
    PendingPairing p = pending_from(json::parse(r.value));
    if (p.expires_at_ms <= now) {
      cleanup.compares.push_back(Compare::version_is(r.key, r.version));
      cleanup.writes.push_back(Write::del(r.key));
      cleanup.writes.push_back(Write::del(keys::pairing_id(p.request_id)));
    } else {
      out.push_back(std::move(p));
    }
  }
  if (!cleanup.writes.empty()) co_await storage_.commit(std::move(cleanup));  // best effort
  std::sort(out.begin(), out.end(), [](const PendingPairing& a, const PendingPairing& b) {
    return a.requested_at < b.requested_at;
  });
  co_return out;
}

Task<std::optional<PendingPairing>> NodeStore::pending_for_node(std::string node_id) {
  auto kv = co_await storage_.get(keys::pairing(node_id));
  if (!kv) co_return std::nullopt;
  PendingPairing p = pending_from(json::parse(kv->value));
  if (p.expires_at_ms <= util::now_ms()) co_return std::nullopt;
  co_return p;
}

Task<std::optional<PendingPairing>> NodeStore::find_pending(std::string request_id) {
  auto idx = co_await storage_.get(keys::pairing_id(request_id));
  if (!idx) co_return std::nullopt;
  auto kv = co_await storage_.get(keys::pairing(idx->value));
  if (!kv) co_return std::nullopt;
  PendingPairing p = pending_from(json::parse(kv->value));
  if (p.request_id != request_id) co_return std::nullopt;  // replaced by a newer request
  co_return p;
}

Task<NodeStore::Approved> NodeStore::approve(std::string request_id, std::string org_id) {
  auto idx = co_await storage_.get(keys::pairing_id(request_id));
  if (!idx) throw api::not_found("no pending pairing request \"" + request_id + "\"");
  std::string node_id = idx->value;
  auto pending_kv = co_await storage_.get(keys::pairing(node_id));
  if (!pending_kv) throw api::not_found("no pending pairing request \"" + request_id + "\"");
  PendingPairing p = pending_from(json::parse(pending_kv->value));
  if (p.request_id != request_id || p.expires_at_ms <= util::now_ms()) {
    throw api::not_found("pairing request \"" + request_id +
                         "\" has expired; the node must ask again");
  }
  if (p.reapproval) {
    Task<Approved> t = approve_reapproval(std::move(p), pending_kv->version, std::move(org_id));
    Approved a = co_await std::move(t);
    decided(PairingKind::Reapproval, metrics::PairingDecision::Approved);
    co_return a;
  }
  if (org_id.empty()) {
    throw api::invalid("approving a pairing request needs params.org: the org the node joins",
                       {{"param", "org"}});
  }
  auto existing_kv = co_await storage_.get(keys::node(node_id));

  Approved a;
  a.token = crypto::base64url(crypto::random_bytes(32));
  NodeRecord& n = a.node;
  if (existing_kv && node_from(json::parse(existing_kv->value)).kind != "bridge") {
    throw node_host_id(node_id);  // a node host took the id while the request waited
  }
  if (existing_kv) {
    // Re-pairing replaces the token (and the org) but keeps operator-set tags and name.
    n = node_from(json::parse(existing_kv->value));
  }
  std::string old_org = existing_kv ? n.org_id : "";
  std::string keep_name = n.display_name;
  apply_claims(n, p.claims);
  if (!keep_name.empty()) n.display_name = keep_name;
  if (n.display_name.empty()) n.display_name = node_id;
  n.node_id = node_id;
  n.org_id = org_id;
  n.kind = "bridge";
  n.declined_commands.clear();  // a new pairing: what it declares is decided afresh
  n.token_sha256 = crypto::sha256_hex(a.token);
  n.paired_at = util::now_iso8601();
  n.revoked = false;
  n.revoked_at.clear();

  Txn txn;
  txn.compares.push_back(Compare::version_is(keys::pairing(node_id), pending_kv->version));
  txn.compares.push_back(Compare::present(keys::org(org_id)));
  txn.compares.push_back(existing_kv
                             ? Compare::version_is(keys::node(node_id), existing_kv->version)
                             : Compare::absent(keys::node(node_id)));
  txn.writes.push_back(Write::put(keys::node(node_id), to_stored_json(n).dump()));
  if (!old_org.empty() && old_org != org_id)
    txn.writes.push_back(Write::del(keys::org_node(old_org, node_id)));
  txn.writes.push_back(Write::put(keys::org_node(org_id, node_id), ""));
  txn.writes.push_back(Write::del(keys::pairing(node_id)));
  txn.writes.push_back(Write::del(keys::pairing_id(request_id)));
  auto out = co_await storage_.commit(std::move(txn));
  if (!out.applied) {
    if (out.failed_compare == 1) throw api::not_found("no such org");
    throw api::conflict("the pairing request changed while approving it; look again");
  }
  decided(PairingKind::Bridge, metrics::PairingDecision::Approved);
  co_return a;
}

Task<PendingPairing> NodeStore::reject(std::string request_id) {
  auto idx = co_await storage_.get(keys::pairing_id(request_id));
  if (!idx) throw api::not_found("no pending pairing request \"" + request_id + "\"");
  auto kv = co_await storage_.get(keys::pairing(idx->value));
  if (!kv) throw api::not_found("no pending pairing request \"" + request_id + "\"");
  PendingPairing p = pending_from(json::parse(kv->value));
  Txn txn;
  txn.compares.push_back(Compare::version_is(keys::pairing(idx->value), kv->version));
  txn.writes.push_back(Write::del(keys::pairing(idx->value)));
  txn.writes.push_back(Write::del(keys::pairing_id(request_id)));
  if (p.reapproval) {
    // Declined, so that the node's next hellos do not ask again; its approved set stays.
    std::optional<core::KV> node_kv = co_await storage_.get(keys::node(p.node_id));
    if (node_kv) {
      NodeRecord n = node_from(json::parse(node_kv->value));
      for (const auto& c : p.added_commands) {
        if (std::find(n.declined_commands.begin(), n.declined_commands.end(), c) ==
            n.declined_commands.end())
          n.declined_commands.push_back(c);
      }
      txn.compares.push_back(Compare::version_is(keys::node(p.node_id), node_kv->version));
      txn.writes.push_back(Write::put(keys::node(p.node_id), to_stored_json(n).dump()));
    }
  }
  auto out = co_await storage_.commit(std::move(txn));
  if (!out.applied)
    throw api::conflict("the pairing request changed while rejecting it; look again");
  decided(p.reapproval ? PairingKind::Reapproval : PairingKind::Bridge,
          metrics::PairingDecision::Rejected);
  co_return p;
}

Task<NodeRecord> NodeStore::update(std::string node_id, std::function<void(NodeRecord&)> change) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    auto kv = co_await storage_.get(keys::node(node_id));
    if (!kv) throw api::not_found("no node \"" + node_id + "\"");
    NodeRecord n = node_from(json::parse(kv->value));
    change(n);
    Txn txn;
    txn.compares.push_back(Compare::version_is(keys::node(node_id), kv->version));
    txn.writes.push_back(Write::put(keys::node(node_id), to_stored_json(n).dump()));
    auto out = co_await storage_.commit(std::move(txn));
    if (out.applied) co_return n;
  }
  throw api::unavailable("node \"" + node_id + "\" is changing too fast; try again");
}

Task<NodeRecord> NodeStore::rename(std::string node_id, std::string name) {
  if (name.empty() || name.size() > 128)
    throw api::invalid("a node name must be 1 to 128 characters");
  // Named callable and task: see docs/coding-notes.md on temporaries inside co_await.
  std::function<void(NodeRecord&)> change = [name](NodeRecord& r) { r.display_name = name; };
  Task<NodeRecord> task = update(node_id, std::move(change));
  NodeRecord n = co_await std::move(task);
  co_return n;
}

Task<NodeRecord> NodeStore::set_tags(std::string node_id, std::vector<std::string> tags) {
  if (tags.size() > 64) throw api::invalid("at most 64 tags");
  for (const auto& t : tags) {
    if (t.empty() || t.size() > 64 || t.find_first_of(" ,\t\n") != std::string::npos) {
      throw api::invalid("tags are 1 to 64 characters without spaces or commas: \"" + t + "\"");
    }
  }
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  std::function<void(NodeRecord&)> change = [tags](NodeRecord& r) { r.tags = tags; };
  Task<NodeRecord> task = update(node_id, std::move(change));
  NodeRecord n = co_await std::move(task);
  co_return n;
}

Task<NodeRecord> NodeStore::revoke(std::string node_id) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    auto kv = co_await storage_.get(keys::node(node_id));
    if (!kv) throw api::not_found("no node \"" + node_id + "\"");
    NodeRecord n = node_from(json::parse(kv->value));
    Txn txn;
    txn.compares.push_back(Compare::version_is(keys::node(node_id), kv->version));
    // A node host's token index (idx/agent-token) stays: it proves which host a presented token
    // belonged to, so a revoked host hears AGENT_REVOKED rather than a bare UNAUTHORIZED.
    if (!n.revoked) {
      n.revoked = true;
      n.revoked_at = util::now_iso8601();
    }
    n.token_sha256.clear();  // nothing left that could match a presented token
    txn.writes.push_back(Write::put(keys::node(node_id), to_stored_json(n).dump()));
    auto out = co_await storage_.commit(std::move(txn));
    if (out.applied) co_return n;
  }
  throw api::unavailable("node \"" + node_id + "\" is changing too fast; try again");
}

Task<void> NodeStore::touch(std::string node_id, std::string when) {
  auto kv = co_await storage_.get(keys::node(node_id));
  if (!kv) co_return;
  NodeRecord n = node_from(json::parse(kv->value));
  n.last_seen_at = when;
  Txn txn;
  txn.compares.push_back(Compare::version_is(keys::node(node_id), kv->version));
  txn.writes.push_back(Write::put(keys::node(node_id), to_stored_json(n).dump()));
  co_await storage_.commit(std::move(txn));  // losing a race here only loses a timestamp
}

Task<NodeStore::Check> NodeStore::check_token(std::string node_id, std::string token) {
  std::string presented = crypto::sha256_hex(token);
  auto kv = co_await storage_.get(keys::node(node_id));
  if (!kv) co_return Check{Verdict::NotPaired, std::nullopt};
  NodeRecord n = node_from(json::parse(kv->value));
  // A node host's token must not open a bridge session: the bridge allowlist reaches every
  // session of the org, which a node host is never given.
  if (n.kind != "bridge") co_return Check{Verdict::NodeHost, std::nullopt};
  if (n.revoked) co_return Check{Verdict::Revoked, std::nullopt};
  if (token.empty() || !crypto::equal_ct(presented, n.token_sha256)) {
    co_return Check{Verdict::Unauthorized, std::nullopt};
  }
  co_return Check{Verdict::Ok, std::move(n)};
}

Task<json> NodeStore::voicewake(std::string org_id) {
  auto kv = co_await storage_.get(keys::org_voicewake(org_id));
  if (!kv) co_return json{{"triggers", json::array()}};
  co_return json::parse(kv->value);
}

Task<json> NodeStore::set_voicewake(std::string org_id, json settings) {
  if (!settings.is_object() || !settings.contains("triggers") || !settings["triggers"].is_array()) {
    throw api::invalid("voicewake.set takes {\"triggers\": [\"word\", ...]}");
  }
  json triggers = json::array();
  for (const auto& t : settings["triggers"]) {
    if (!t.is_string() || t.get<std::string>().empty() || t.get<std::string>().size() > 64) {
      throw api::invalid("each voice wake trigger is a string of 1 to 64 characters");
    }
    triggers.push_back(t);
  }
  if (triggers.size() > 32) throw api::invalid("at most 32 voice wake triggers");
  json stored = {{"triggers", triggers}};
  Txn txn;
  txn.compares.push_back(Compare::present(keys::org(org_id)));
  txn.writes.push_back(Write::put(keys::org_voicewake(org_id), stored.dump()));
  auto out = co_await storage_.commit(std::move(txn));
  if (!out.applied) throw api::not_found("no org \"" + org_id + "\"");
  co_return stored;
}

}  // namespace vespid::nodes
