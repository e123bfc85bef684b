// NodeStore's re-approvals: a paired node's later hello declares commands nobody approved (an
// upgraded app). Approved commands stay authoritative; the difference becomes a pending request
// in the node's one pairing slot, with the pairing expiry, for an operator to decide.
#include <algorithm>

#include "runtime/api_error.hpp"
#include "runtime/crypto.hpp"
#include "runtime/gateway_metrics.hpp"
#include "runtime/time.hpp"
#include "services/nodes/node_store.hpp"
#include "storage/keys.hpp"

namespace vespid::nodes {

using core::Compare;
using core::Task;
using core::Txn;
using core::Write;
using nlohmann::json;
namespace keys = repo::keys;

namespace {
// Two hellos racing for the slot retry this often before giving up (the next hello asks again).
constexpr int kAttempts = 16;
}  // namespace

Task<std::optional<PendingPairing>> NodeStore::request_reapproval(std::string node_id, json claims,
                                                                  std::string remote_address) {
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::optional<core::KV> node_kv = co_await storage_.get(keys::node(node_id));
    if (!node_kv) co_return std::nullopt;
    const NodeRecord n = node_from(json::parse(node_kv->value));
    if (n.revoked || n.kind != "bridge") co_return std::nullopt;
    std::vector<std::string> added = unapproved_commands(n, claims);
    if (added.empty()) co_return std::nullopt;

    std::optional<core::KV> slot = co_await storage_.get(keys::pairing(node_id));
    const int64_t now = util::now_ms();
    Txn txn;
    txn.compares.push_back(Compare::version_is(keys::node(node_id), node_kv->version));
    if (slot) {
      const PendingPairing waiting = pending_from(json::parse(slot->value));
      if (waiting.expires_at_ms > now) {
        if (!waiting.reapproval) co_return std::nullopt;  // a pairing decides everything
        if (waiting.added_commands == added) co_return std::nullopt;  // already asked
      }
      // Expired, or asking about other commands: an approval of the old id must not grant
      // what the operator did not see, so the new one gets a new id.
      txn.compares.push_back(Compare::version_is(keys::pairing(node_id), slot->version));
      txn.writes.push_back(Write::del(keys::pairing_id(waiting.request_id)));
    } else {
      txn.compares.push_back(Compare::absent(keys::pairing(node_id)));
    }
    PendingPairing p;
    p.request_id = crypto::uuid_v4();
    p.node_id = node_id;
    p.claims = claims;
    p.remote_address = remote_address;
    p.requested_at = util::iso8601(now);
    p.expires_at_ms = now + limits_.pairing_ttl_ms;
    p.reapproval = true;
    p.added_commands = std::move(added);
    p.approved_commands = n.commands;
    p.org_id = n.org_id;
    txn.writes.push_back(Write::put(keys::pairing(node_id), to_stored_json(p).dump()));
    txn.writes.push_back(Write::put(keys::pairing_id(p.request_id), node_id));
    core::TxnOutcome out = co_await storage_.commit(std::move(txn));
    if (out.applied) {
      metrics::instruments().pairing_requests_received[metrics::PairingKind::Reapproval].inc();
      co_return p;
    }
  }
  co_return std::nullopt;
}

Task<NodeStore::Approved> NodeStore::approve_reapproval(PendingPairing p, uint64_t pending_version,
                                                        std::string org_id) {
  std::optional<core::KV> node_kv = co_await storage_.get(keys::node(p.node_id));
  if (!node_kv) throw api::not_found("node \"" + p.node_id + "\" is no longer paired");
  Approved a;
  a.reapproval = true;
  a.node = node_from(json::parse(node_kv->value));
  NodeRecord& n = a.node;
  if (n.revoked) throw api::conflict("node \"" + p.node_id + "\" was revoked meanwhile");
  if (n.org_id != p.org_id) {
    throw api::conflict("node \"" + p.node_id +
                        "\" was paired anew meanwhile; its request is "
                        "out of date");
  }
  if (!org_id.empty() && org_id != n.org_id) {
    throw api::invalid("request \"" + p.request_id + "\" re-approves commands of node \"" +
                           p.node_id + "\", which stays in its org \"" + n.org_id + "\"",
                       {{"param", "org"}});
  }
  for (const auto& c : p.added_commands) {
    if (std::find(n.commands.begin(), n.commands.end(), c) == n.commands.end()) {
      n.commands.push_back(c);
      a.added_commands.push_back(c);
    }
    std::erase(n.declined_commands, c);
  }
  Txn txn;
  txn.compares.push_back(Compare::version_is(keys::pairing(p.node_id), pending_version));
  txn.compares.push_back(Compare::version_is(keys::node(p.node_id), node_kv->version));
  txn.writes.push_back(Write::put(keys::node(p.node_id), to_stored_json(n).dump()));
  txn.writes.push_back(Write::del(keys::pairing(p.node_id)));
  txn.writes.push_back(Write::del(keys::pairing_id(p.request_id)));
  core::TxnOutcome out = co_await storage_.commit(std::move(txn));
  if (!out.applied) throw api::conflict("the node changed while approving its request; look again");
  co_return a;
}

}  // namespace vespid::nodes
