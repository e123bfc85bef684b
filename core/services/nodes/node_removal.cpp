// Deleting a node from the registry: the step after revoke for entries nobody needs any more (a
// stale node host that paired twice, a phone that was replaced). Revoke keeps the record, so the
// node hears "revoked" when it comes back; delete forgets it.
#include "runtime/api_error.hpp"
#include "services/nodes/node_store.hpp"
#include "storage/keys.hpp"

namespace vespid::nodes {

using core::Compare;
using core::Task;
using core::Txn;
using core::Write;
using nlohmann::json;
namespace keys = repo::keys;

Task<NodeRecord> NodeStore::remove(std::string node_id) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::optional<core::KV> kv = co_await storage_.get(keys::node(node_id));
    if (!kv) throw api::not_found("no node \"" + node_id + "\"");
    NodeRecord n = node_from(json::parse(kv->value));
    Txn txn;
    txn.compares.push_back(Compare::version_is(keys::node(node_id), kv->version));
    txn.writes.push_back(Write::del(keys::node(node_id)));
    if (!n.org_id.empty()) txn.writes.push_back(Write::del(keys::org_node(n.org_id, node_id)));
    // A pending request (a re-approval, or a pairing retry under this id) would otherwise
    // approve into a node that is gone.
    std::optional<core::KV> pending = co_await storage_.get(keys::pairing(node_id));
    if (pending) {
      txn.writes.push_back(Write::del(keys::pairing(node_id)));
      txn.writes.push_back(
          Write::del(keys::pairing_id(pending_from(json::parse(pending->value)).request_id)));
    }
    if (n.kind == "agent") {
      // A revoked host's hash is cleared from its record but its index stays (so it hears
      // AGENT_REVOKED); deleting the host removes every index entry that still names it.
      std::vector<core::KV> tokens = co_await storage_.scan_prefix(keys::agent_token(""));
      for (const auto& t : tokens) {
        if (t.value == node_id) txn.writes.push_back(Write::del(t.key));
      }
    }
    core::TxnOutcome out = co_await storage_.commit(std::move(txn));
    if (out.applied) co_return n;
  }
  throw api::unavailable("node \"" + node_id + "\" is changing too fast; try again");
}

}  // namespace vespid::nodes
