#include "services/dispatch/result_store.hpp"

#include <vector>

#include "json_write.hpp"
#include "runtime/gateway_metrics.hpp"
#include "runtime/time.hpp"
#include "storage/keys.hpp"

namespace vespid::dispatch {

using core::Compare;
using core::Task;
using core::Txn;
using core::Write;
using nlohmann::json;
namespace keys = repo::keys;

json to_stored_json(const StoredResult& r) {
  return {{"requestId", r.request_id},
          {"orgId", r.org_id},
          {"agentId", r.agent_id},
          {"source", r.source},
          {"result", r.result_text.empty() ? r.result : json::parse(r.result_text)},
          {"storedAtMs", r.stored_at_ms},
          {"expiresAtMs", r.expires_at_ms}};
}

std::string to_stored_text(const StoredResult& r) {
  // Name order, as dump() writes the object to_stored_json builds; the result is not copied.
  std::string out = "{";
  // Room for all of it up front: the members after "result" would otherwise grow the string
  // past a large result, copying it again. The ids are counted twice for their escapes.
  out.reserve(128 +
              2 * (r.agent_id.size() + r.org_id.size() + r.request_id.size() + r.source.size()) +
              r.result_text.size());
  const bool ok = json_write::append_string_member(out, "agentId", r.agent_id) &&
                  json_write::append_value_member(out, "expiresAtMs", r.expires_at_ms) &&
                  json_write::append_string_member(out, "orgId", r.org_id) &&
                  json_write::append_string_member(out, "requestId", r.request_id) &&
                  (r.result_text.empty()
                       ? json_write::append_value_member(out, "result", r.result)
                       : (json_write::append_raw_member(out, "result", r.result_text), true)) &&
                  json_write::append_string_member(out, "source", r.source) &&
                  json_write::append_value_member(out, "storedAtMs", r.stored_at_ms);
  if (!ok) return json_write::dump(to_stored_json(r));  // throws, as dump() does
  out.push_back('}');
  return out;
}

StoredResult stored_result_from(const json& j) {
  StoredResult r;
  r.request_id = j.value("requestId", "");
  r.org_id = j.value("orgId", "");
  r.agent_id = j.value("agentId", "");
  r.source = j.value("source", "agent");
  r.result = j.value("result", json::object());
  r.stored_at_ms = j.value("storedAtMs", int64_t{0});
  r.expires_at_ms = j.value("expiresAtMs", int64_t{0});
  return r;
}

Task<std::optional<StoredResult>> ResultStore::get(std::string request_id) {
  auto& reads = metrics::instruments().dispatch_result_reads;
  if (const std::string* kept = recent_.find(request_id, util::now_ms())) {
    reads[metrics::ResultRead::Memory].inc();
    co_return stored_result_from(json::parse(*kept));
  }
  reads[metrics::ResultRead::Storage].inc();
  auto kv = co_await storage_.get(keys::result(request_id));
  if (!kv) co_return std::nullopt;
  StoredResult r = stored_result_from(json::parse(kv->value));
  if (r.expires_at_ms <= util::now_ms()) co_return std::nullopt;  // the sweep will delete it
  co_return r;
}

Task<ResultStore::Stored> ResultStore::put(StoredResult r) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    // The first try assumes nothing is stored under this id yet, as is usual, and so needs no
    // read first (a round trip to the storage thread on every dispatch's way back). A later try
    // reads what is there: a host's earlier answer (a resend) or the gateway's own timeout.
    std::optional<core::KV> existing;
    if (attempt > 0) existing = co_await storage_.get(keys::result(r.request_id));
    Txn txn;
    if (existing) {
      StoredResult old = stored_result_from(json::parse(existing->value));
      if (old.source == "agent" && old.expires_at_ms > util::now_ms()) co_return Stored::Duplicate;
      txn.compares.push_back(Compare::version_is(keys::result(r.request_id), existing->version));
      txn.writes.push_back(Write::del(keys::result_expiry(old.expires_at_ms, r.request_id)));
    } else {
      txn.compares.push_back(Compare::absent(keys::result(r.request_id)));
    }
    r.stored_at_ms = util::now_ms();
    r.expires_at_ms = r.stored_at_ms + ttl_ms_;
    const std::size_t text_at = txn.writes.size();
    txn.writes.push_back(Write::put(keys::result(r.request_id), to_stored_text(r)));
    txn.writes.push_back(Write::put(keys::result_expiry(r.expires_at_ms, r.request_id), ""));
    txn.writes.push_back(Write::del(keys::dispatch(r.request_id)));
    // The text is written once and kept from the transaction the store hands back, not copied
    // for the cache beforehand.
    auto [out, written] = co_await storage_.commit_returning(std::move(txn));
    if (out.applied) {
      if (r.source == "agent") {
        recent_.keep(r.request_id, std::move(written.writes[text_at].value), r.expires_at_ms);
      } else {
        recent_.forget(r.request_id);
      }
      co_return Stored::Written;
    }
  }
  throw core::StorageError(VSP_E_CONFLICT,
                           "result for " + r.request_id + " kept changing while being stored");
}

Task<size_t> ResultStore::sweep(int64_t now_ms, uint32_t limit) {
  auto rows = co_await storage_.scan_prefix(keys::kResultExpiryPrefix, limit);
  const std::string cutoff = keys::result_expiry(now_ms, "");
  Txn txn;
  std::vector<std::string> swept;
  for (const auto& row : rows) {
    if (row.key >= cutoff) break;  // ordered by expiry: the rest are still live
    std::string request_id = row.key.substr(cutoff.size());
    // If a put replaced this result meanwhile, its index entry is gone and the sweep retries
    // later rather than delete the fresh result.
    txn.compares.push_back(Compare::version_is(row.key, row.version));
    txn.writes.push_back(Write::del(row.key));
    txn.writes.push_back(Write::del(keys::result(request_id)));
    swept.push_back(std::move(request_id));
  }
  if (swept.empty()) co_return 0;
  const core::TxnOutcome out = co_await storage_.commit(std::move(txn));
  if (out.applied) {
    for (const std::string& id : swept) recent_.forget(id);
  }
  co_return swept.size();
}

}  // namespace vespid::dispatch
