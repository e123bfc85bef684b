#include "services/workflows/run_service.hpp"

#include <algorithm>

#include "runtime/api_error.hpp"
#include "runtime/crypto.hpp"
#include "runtime/logging.hpp"
#include "runtime/name_uuid.hpp"
#include "runtime/time.hpp"
#include "services/identity/org_access.hpp"
#include "storage/keys.hpp"

namespace vespid::workflows {

using core::Compare;
using core::Task;
using core::Txn;
using core::Write;
using nlohmann::json;
namespace keys = repo::keys;

namespace {

std::shared_ptr<spdlog::logger> L() {
  return log::get("workflow-runs");
}

constexpr int kMaxPage = 200;
constexpr int64_t kMaxClaimWaitMs = 25000;
constexpr int kCommitTries = 5;
constexpr int64_t kUnconfirmedLeaseMs =
    5000;  // a claim's lease until its first checkpoint  // a worker's lease keeper and its
           // executor race; both are right
const std::string kClaimKey = "claim";

bool ended(const std::string& status) {
  return status == "succeeded" || status == "failed" || status == "canceled";
}

api::ApiError run_not_found(const std::string& id) {
  return {"RUN_NOT_FOUND", "no run \"" + id + "\" of this workflow", {{"runId", id}}};
}

std::string ready_key(int64_t ready_ms, const std::string& run_id) {
  return keys::kRunReadyPrefix +
         keys::padded(static_cast<uint64_t>(std::max<int64_t>(0, ready_ms))) + "/" + run_id;
}

// What users and workers see: the stored record without the lease's secret or the indexes'
// bookkeeping.
json view(const json& r) {
  json v = r;
  v.erase("leaseTokenSha256");
  v.erase("readyMs");
  v.erase("createdMs");
  v.erase("leaseExpiresMs");
  return v;
}

int64_t int_field(const json& body, const char* name, int64_t fallback, int64_t lo, int64_t hi) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<int64_t>() < lo || it->get<int64_t>() > hi) {
    throw api::invalid("\"" + std::string(name) + "\" must be an integer from " +
                           std::to_string(lo) + " to " + std::to_string(hi),
                       {{"field", name}});
  }
  return it->get<int64_t>();
}

void check_size(const json& value, const char* field, size_t max) {
  if (value.dump().size() > max) {
    throw api::invalid("\"" + std::string(field) + "\" is larger than " + std::to_string(max) +
                           " bytes (workflows.max_state_bytes)",
                       {{"field", field}});
  }
}

json make_event(const json& run, uint64_t seq, const std::string& type, json payload,
                const std::string& level = "info") {
  return {{"seq", seq},
          {"runId", run["id"]},
          {"workflowId", run["workflowId"]},
          {"organizationId", run["organizationId"]},
          {"attemptCount", run["attemptCount"]},
          {"eventType", type},
          {"nodeId", nullptr},
          {"nodeType", nullptr},
          {"level", level},
          {"message", nullptr},
          {"payload", std::move(payload)},
          {"createdAt", util::now_iso8601()}};
}

// A worker's event, checked: {eventType, nodeId?, nodeType?, level?, message?, payload?}.
json worker_event(const json& run, uint64_t seq, const json& e, size_t index) {
  const std::string at = "events[" + std::to_string(index) + "]";
  if (!e.is_object()) throw api::invalid(at + " must be an object", {{"field", at}});
  auto text = [&](const char* name, size_t max, bool required) -> json {
    auto it = e.find(name);
    if (it == e.end() || it->is_null()) {
      if (required)
        throw api::invalid(at + "." + name + " is required", {{"field", at + "." + name}});
      return nullptr;
    }
    if (!it->is_string() || it->get_ref<const std::string&>().empty() ||
        it->get_ref<const std::string&>().size() > max) {
      throw api::invalid(
          at + "." + name + " must be a string of 1 to " + std::to_string(max) + " characters",
          {{"field", at + "." + name}});
    }
    return *it;
  };
  json type = text("eventType", 100, true);
  json level = text("level", 10, false);
  if (!level.is_null() && level != "info" && level != "warn" && level != "error")
    throw api::invalid(at + ".level must be info, warn or error", {{"field", at + ".level"}});
  json ev = make_event(run, seq, type.get<std::string>(), e.value("payload", json()),
                       level.is_null() ? "info" : level.get<std::string>());
  ev["nodeId"] = text("nodeId", 200, false);
  ev["nodeType"] = text("nodeType", 100, false);
  ev["message"] = text("message", 4000, false);
  return ev;
}

void clear_lease(json& r) {
  r["leaseOwner"] = nullptr;
  r["leaseExpiresAt"] = nullptr;
  r["leaseExpiresMs"] = nullptr;
  r["leaseTokenSha256"] = nullptr;
}

}  // namespace

RunService::RunService(core::StorageService& storage, repo::Repository& repo,
                       core::Deadlines& deadlines, RunSettings settings)
    : storage_(storage),
      repo_(repo),
      deadlines_(deadlines),
      settings_(settings),
      claimers_(deadlines),
      followers_(deadlines) {}

Task<std::string> RunService::require_workflow(Caller caller, std::string workflow_id,
                                               repo::OrgRole role, json* workflow) {
  Task<auth::OrgAccess> at = auth::require_org_access(repo_, caller.who, caller.org_id, role);
  auth::OrgAccess access = co_await std::move(at);
  api::ApiError missing{"WORKFLOW_NOT_FOUND",
                        "no workflow \"" + workflow_id + "\" in this org",
                        {{"workflowId", workflow_id}}};
  if (workflow_id.empty() || workflow_id.size() > 128) throw missing;
  std::optional<core::KV> kv = co_await storage_.get(keys::workflow(workflow_id));
  if (!kv) throw missing;
  json w = json::parse(kv->value);
  if (w.value("organizationId", "") != access.org_id) throw missing;
  if (workflow != nullptr) *workflow = std::move(w);
  co_return access.org_id;
}

Task<RunService::Loaded> RunService::require_run(Caller caller, std::string workflow_id,
                                                 std::string run_id, repo::OrgRole role) {
  Task<std::string> wt = require_workflow(caller, workflow_id, role, nullptr);
  std::string org = co_await std::move(wt);
  if (run_id.empty() || run_id.size() > 128) throw run_not_found(run_id);
  std::optional<core::KV> kv = co_await storage_.get(keys::workflow_run(run_id));
  if (!kv) throw run_not_found(run_id);
  json r = json::parse(kv->value);
  if (r.value("organizationId", "") != org || r.value("workflowId", "") != workflow_id)
    throw run_not_found(run_id);
  co_return Loaded{std::move(r), kv->version};
}

Task<json> RunService::start(Caller caller, std::string workflow_id, json body) {
  if (!body.is_object()) throw api::invalid("the body must be {input?}");
  json workflow;
  Task<std::string> wt = require_workflow(caller, workflow_id, repo::OrgRole::Member, &workflow);
  co_await std::move(wt);
  if (workflow.value("status", "") != "published") {
    throw api::ApiError("CONFLICT",
                        "workflow \"" + workflow_id +
                            "\" is a draft: publish it first (vespid workflow publish " +
                            workflow_id + ")",
                        {{"workflowId", workflow_id}});
  }
  // Workers dispatch on the requester's behalf: the reference wants a uuid there.
  NewRun n;
  n.requested_by = caller.who.role == core::Role::Operator
                       ? caller.who.user_id
                       : crypto::name_uuid(core::role_name(caller.who.role));
  n.input = body.value("input", json());
  Task<std::optional<json>> t = create_run(std::move(workflow), std::move(n));
  std::optional<json> run = co_await std::move(t);
  co_return std::move(*run);
}

Task<json> RunService::trigger_webhook(std::string token, json body, std::string idempotency_key) {
  api::ApiError unknown{"TRIGGER_NOT_FOUND", "no published workflow has this webhook token"};
  if (token.empty() || token.size() > 512) throw unknown;
  const std::string hash = crypto::sha256_hex(token);
  std::optional<core::KV> hook = co_await storage_.get(keys::webhook(hash));
  if (!hook) throw unknown;
  std::optional<core::KV> wkv = co_await storage_.get(keys::workflow(hook->value));
  if (!wkv) throw unknown;
  json workflow = json::parse(wkv->value);
  // The index names the workflow; its spec must still carry this very token.
  if (workflow.value("status", "") != "published" ||
      !crypto::equal_ct(webhook_token_hash(workflow["dsl"]), hash)) {
    throw unknown;
  }
  const std::string received = util::now_iso8601();
  json trigger = {{"type", "webhook"}, {"receivedAt", received}};
  NewRun n;
  // The reference's input: the body's fields, or {payload} for a body that is not an object,
  // with __trigger saying where the run came from.
  n.input = body.is_object() ? body : json{{"payload", body}};
  n.input["__trigger"] = trigger;
  n.trigger_type = "webhook";
  n.trigger_source = "webhook.token";
  n.trigger_key = idempotency_key.empty() ? std::string() : "webhook:" + idempotency_key;
  const std::string publisher = workflow.value("publishedByUserId", "");
  n.requested_by = publisher.empty() ? crypto::name_uuid("local-admin") : publisher;
  const std::string workflow_id = workflow.value("id", "");
  Task<std::optional<json>> t = create_run(std::move(workflow), std::move(n));
  std::optional<json> run = co_await std::move(t);
  if (!run) co_return json{{"accepted", true}, {"duplicate", true}};
  co_return json{{"accepted", true}, {"runId", (*run)["id"]}};
}

Task<std::optional<json>> RunService::create_run(json workflow, NewRun n) {
  check_size(n.input, "input", settings_.max_state_bytes);
  const std::string workflow_id = workflow.value("id", "");
  const std::string org = workflow.value("organizationId", "");
  const int64_t created_us = util::now_us();
  const int64_t now = created_us / 1000;
  const std::string id = crypto::uuid_v4();
  json r = {{"id", id},
            {"organizationId", org},
            {"workflowId", workflow_id},
            {"workflowRevision", workflow["revision"]},
            {"triggerType", n.trigger_type},
            {"triggerSource", n.trigger_source},
            {"triggerKey", n.trigger_key.empty() ? json() : json(n.trigger_key)},
            {"status", "queued"},
            {"attemptCount", 0},
            {"maxAttempts", settings_.max_attempts},
            {"nextAttemptAt", nullptr},
            {"cursor", nullptr},
            {"blocked", nullptr},
            {"requestedByUserId", n.requested_by},
            {"input", n.input},
            {"output", nullptr},
            {"error", nullptr},
            {"createdAt", util::iso8601(now)},
            {"startedAt", nullptr},
            {"finishedAt", nullptr},
            {"leaseOwner", nullptr},
            {"leaseExpiresAt", nullptr},
            {"leaseExpiresMs", nullptr},
            {"leaseTokenSha256", nullptr},
            {"nextSeq", 2},
            {"readyMs", now},
            {"createdMs", now}};
  json queued = make_event(
      r, 1, "run_queued", {{"triggerType", n.trigger_type}, {"requestedByUserId", n.requested_by}});
  Txn txn;
  txn.compares.push_back(Compare::absent(keys::workflow_run(id)));
  std::string dedup;
  if (!n.trigger_key.empty()) {
    // One run per trigger key (a webhook's idempotency key, a cron tick): however many
    // deliveries or gateway instances try, the first one makes it.
    dedup = keys::workflow_trigger_key(workflow_id, crypto::sha256_hex(n.trigger_key));
    txn.compares.push_back(Compare::absent(dedup));
    txn.writes.push_back(Write::put(dedup, id));
  }
  txn.writes.push_back(Write::put(keys::workflow_run(id), r.dump()));
  txn.writes.push_back(Write::put(
      keys::workflow_runs(workflow_id) + keys::padded(static_cast<uint64_t>(created_us)) + "/" + id,
      ""));
  txn.writes.push_back(Write::put(ready_key(now, id), ""));
  txn.writes.push_back(Write::put(keys::workflow_run_events(id) + keys::padded(1), queued.dump()));
  const bool guarded = !n.compares.empty();
  for (auto& c : n.compares) txn.compares.push_back(std::move(c));
  for (auto& w : n.writes) txn.writes.push_back(std::move(w));
  core::TxnOutcome out = co_await storage_.commit(std::move(txn));
  if (!out.applied) {
    if (guarded) co_return std::nullopt;  // the caller's condition no longer holds
    if (!dedup.empty()) {
      std::optional<core::KV> seen = co_await storage_.get(dedup);
      if (seen) co_return std::nullopt;  // this trigger already made its run
    }
    throw api::conflict("run id collision; retry");
  }
  L()->info("run {} of workflow {} queued in org {} ({} trigger, requested by {})", id, workflow_id,
            org, n.trigger_type, n.requested_by);
  stored(r, json::array({queued}));
  claimers_.wake(kClaimKey);
  co_return view(r);
}

Task<json> RunService::list(Caller caller, std::string workflow_id, int limit, std::string cursor) {
  Task<std::string> wt = require_workflow(caller, workflow_id, repo::OrgRole::Member, nullptr);
  co_await std::move(wt);
  limit = std::clamp(limit <= 0 ? 50 : limit, 1, kMaxPage);
  const std::string prefix = keys::workflow_runs(workflow_id);
  if (!cursor.empty() && cursor.find('/') == std::string::npos)
    throw api::invalid("\"cursor\" is not a cursor this API gave out", {{"field", "cursor"}});
  std::string end = cursor.empty() ? core::StorageService::prefix_end(prefix) : prefix + cursor;
  auto rows = co_await storage_.scan(prefix, end, static_cast<uint32_t>(limit + 1), true);
  json out = json::array();
  json next = nullptr;
  for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(limit); ++i) {
    const std::string tail = rows[i].key.substr(prefix.size());
    std::optional<core::KV> kv =
        co_await storage_.get(keys::workflow_run(tail.substr(tail.find('/') + 1)));
    if (kv) out.push_back(view(json::parse(kv->value)));
    if (rows.size() > static_cast<size_t>(limit)) next = tail;
  }
  co_return json{{"runs", out}, {"nextCursor", next}};
}

Task<json> RunService::get(Caller caller, std::string workflow_id, std::string run_id) {
  Task<Loaded> t = require_run(std::move(caller), std::move(workflow_id), std::move(run_id),
                               repo::OrgRole::Member);
  Loaded l = co_await std::move(t);
  co_return view(l.run);
}

Task<json> RunService::events(Caller caller, std::string workflow_id, std::string run_id,
                              uint64_t after_seq, int limit, std::chrono::milliseconds wait) {
  Task<Loaded> t = require_run(caller, workflow_id, run_id, repo::OrgRole::Member);
  Loaded l = co_await std::move(t);
  limit = std::clamp(limit <= 0 ? 100 : limit, 1, 1000);
  const std::string prefix = keys::workflow_run_events(run_id);
  const auto until = std::chrono::steady_clock::now() + wait;
  auto rows = co_await storage_.scan(prefix + keys::padded(after_seq + 1),
                                     core::StorageService::prefix_end(prefix),
                                     static_cast<uint32_t>(limit), false);
  // A follower's long-poll: nothing new yet on a live run, so wait for events stored here (or,
  // at most a second later, elsewhere), then read again.
  while (rows.empty() && !ended(l.run.value("status", ""))) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    bool woken = co_await followers_.wait(&run_id, std::min(left, settings_.claim_recheck));
    (void)woken;
    // The run first, then its events, as require_run and the scan above: a run's verdict event
    // is committed with its last status, so a run read as ended has every event stored, and the
    // scan after finds them. The other order let a verdict land between the two reads and end
    // the follow with an empty page and no cursor: told the run ended, never given its verdict.
    std::optional<core::KV> now = co_await storage_.get(keys::workflow_run(run_id));
    if (now) l.run = json::parse(now->value);
    rows = co_await storage_.scan(prefix + keys::padded(after_seq + 1),
                                  core::StorageService::prefix_end(prefix),
                                  static_cast<uint32_t>(limit), false);
  }
  json out = json::array();
  for (const auto& row : rows) out.push_back(json::parse(row.value));
  json next = nullptr;
  const uint64_t last = out.empty() ? after_seq : out.back()["seq"].get<uint64_t>();
  // More may follow while the run is alive, or when this page was full.
  if (!ended(l.run.value("status", "")) || static_cast<int>(rows.size()) == limit) next = last;
  co_return json{{"events", out}, {"nextCursor", next}};
}

Task<json> RunService::cancel(Caller caller, std::string workflow_id, std::string run_id) {
  const std::string who = caller.who.role == core::Role::Operator
                              ? caller.who.user_id
                              : core::role_name(caller.who.role);
  Task<auth::OrgAccess> at =
      auth::require_org_access(repo_, caller.who, caller.org_id, repo::OrgRole::Member);
  auth::OrgAccess access = co_await std::move(at);
  const bool admin = access.local_admin ||
                     (access.role && auth::role_at_least(*access.role, repo::OrgRole::Admin));
  for (int i = 0; i < kCommitTries; ++i) {
    Task<Loaded> t = require_run(caller, workflow_id, run_id, repo::OrgRole::Member);
    Loaded l = co_await std::move(t);
    json& r = l.run;
    if (!admin && r.value("requestedByUserId", "") != caller.who.user_id) {
      throw api::forbidden(
          "only the org's owners and admins, or whoever started the run, can "
          "cancel it");
    }
    const std::string status = r.value("status", "");
    if (ended(status)) {
      throw api::ApiError("CONFLICT", "run " + run_id + " has already ended (" + status + ")",
                          {{"runId", run_id}, {"status", status}});
    }
    Txn txn;
    txn.compares.push_back(Compare::version_is(keys::workflow_run(run_id), l.version));
    if (r.contains("readyMs") && r["readyMs"].is_number())
      txn.writes.push_back(Write::del(ready_key(r["readyMs"].get<int64_t>(), run_id)));
    const uint64_t seq = r["nextSeq"].get<uint64_t>();
    json ev = make_event(r, seq, "run_canceled", {{"by", who}, {"wasStatus", status}}, "warn");
    r["nextSeq"] = seq + 1;
    r["status"] = "canceled";
    r["error"] = "RUN_CANCELED";
    r["finishedAt"] = util::now_iso8601();
    r["readyMs"] = nullptr;
    clear_lease(r);
    txn.writes.push_back(Write::put(keys::workflow_run(run_id), r.dump()));
    txn.writes.push_back(
        Write::put(keys::workflow_run_events(run_id) + keys::padded(seq), ev.dump()));
    core::TxnOutcome out = co_await storage_.commit(std::move(txn));
    if (!out.applied) continue;  // a worker checkpointed meanwhile: read it again
    L()->info("run {} canceled by {} (was {})", run_id, who, status);
    stored(r, json::array({ev}));
    if (on_canceled_ && r["blocked"].is_object() && r["blocked"].contains("requestId") &&
        r["blocked"]["requestId"].is_string()) {
      on_canceled_(run_id, r["blocked"]["requestId"].get<std::string>());
    }
    co_return view(r);
  }
  throw api::unavailable("run " + run_id + " keeps changing; retry the cancel");
}

Task<json> RunService::claim(json body) {
  auto wid = body.find("workerId");
  if (wid == body.end() || !wid->is_string() || wid->get_ref<const std::string&>().empty() ||
      wid->get_ref<const std::string&>().size() > 200) {
    throw api::invalid("\"workerId\" must be a string of 1 to 200 characters",
                       {{"field", "workerId"}});
  }
  const std::string worker_id = *wid;
  const int64_t lease_ms = int_field(body, "leaseMs", settings_.default_lease_ms, 1000, 600000);
  const int64_t wait_ms = int_field(body, "waitMs", 20000, 0, kMaxClaimWaitMs);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    Task<std::optional<json>> t = try_claim(worker_id, lease_ms);
    std::optional<json> got = co_await std::move(t);
    if (got) co_return std::move(*got);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) co_return json{{"run", nullptr}};
    // Woken by a run queued here; at most claim_recheck later a lease that expired, or a run
    // queued by another instance, is looked for again.
    bool woken = co_await claimers_.wait(&kClaimKey, std::min(left, settings_.claim_recheck));
    (void)woken;
  }
}

Task<std::optional<json>> RunService::try_claim(std::string worker_id, int64_t lease_ms) {
  const int64_t now = util::now_ms();
  auto rows = co_await storage_.scan(
      keys::kRunReadyPrefix, keys::kRunReadyPrefix + keys::padded(static_cast<uint64_t>(now + 1)),
      16, false);
  for (const auto& row : rows) {
    const std::string tail = row.key.substr(keys::kRunReadyPrefix.size());
    const size_t slash = tail.find('/');
    if (slash == std::string::npos) continue;
    const std::string run_id = tail.substr(slash + 1);
    const int64_t ready = std::stoll(tail.substr(0, slash));
    std::optional<core::KV> kv = co_await storage_.get(keys::workflow_run(run_id));
    json r = kv ? json::parse(kv->value) : json();
    const bool stale = !kv || ended(r.value("status", "")) || !r["readyMs"].is_number() ||
                       r["readyMs"].get<int64_t>() != ready;
    if (stale) {
      // An index entry its run moved away from (a crash between writes cannot leave one, but
      // a run record restored from a backup can): dropped, so it is not looked at again.
      Txn drop;
      drop.writes.push_back(Write::del(row.key));
      co_await storage_.commit(std::move(drop));
      continue;
    }
    std::optional<core::KV> wkv =
        co_await storage_.get(keys::workflow(r["workflowId"].get<std::string>()));
    const bool takeover = r["status"] == "running";
    const std::string previous =
        r["leaseOwner"].is_string() ? r["leaseOwner"].get<std::string>() : "";
    if (!takeover) {
      r["attemptCount"] = r["attemptCount"].get<int>() + 1;
      r["blocked"] = nullptr;
    }
    r["status"] = "running";
    if (r["startedAt"].is_null()) r["startedAt"] = util::iso8601(now);
    const std::string token = crypto::hex(crypto::random_bytes(24));
    r["leaseOwner"] = worker_id;
    r["leaseTokenSha256"] = crypto::sha256_hex(token);
    // Until the worker's first checkpoint the lease is short: a long-poll answered just as its
    // worker died reaches nobody, and the run should not wait a whole lease for that.
    const int64_t first_lease = std::min<int64_t>(lease_ms, kUnconfirmedLeaseMs);
    r["leaseMs"] = lease_ms;
    r["leaseExpiresMs"] = now + first_lease;
    r["leaseExpiresAt"] = util::iso8601(now + first_lease);
    r["nextAttemptAt"] = nullptr;
    r["readyMs"] = now + first_lease;
    const uint64_t seq = r["nextSeq"].get<uint64_t>();
    json payload = {{"workerId", worker_id}, {"takeover", takeover}};
    if (takeover) payload["previousWorkerId"] = previous;
    json ev = make_event(r, seq, "run_claimed", payload, takeover ? "warn" : "info");
    r["nextSeq"] = seq + 1;
    Txn txn;
    txn.compares.push_back(Compare::version_is(keys::workflow_run(run_id), kv->version));
    txn.writes.push_back(Write::del(row.key));
    if (!wkv) {
      // The workflow was removed under its run: the run ends here, with the reason.
      r["status"] = "failed";
      r["error"] = "WORKFLOW_NOT_FOUND";
      r["finishedAt"] = util::iso8601(now);
      r["readyMs"] = nullptr;
      clear_lease(r);
    } else {
      txn.writes.push_back(Write::put(ready_key(now + first_lease, run_id), ""));
    }
    txn.writes.push_back(Write::put(keys::workflow_run(run_id), r.dump()));
    txn.writes.push_back(
        Write::put(keys::workflow_run_events(run_id) + keys::padded(seq), ev.dump()));
    core::TxnOutcome out = co_await storage_.commit(std::move(txn));
    if (!out.applied) continue;  // another worker took it first
    stored(r, json::array({ev}));
    if (!wkv) continue;
    if (takeover) {
      L()->warn("run {}: the lease of worker {} expired; worker {} takes it over at attempt {}",
                run_id, previous, worker_id, r["attemptCount"].get<int>());
    } else {
      L()->info("run {} claimed by worker {} (attempt {} of {})", run_id, worker_id,
                r["attemptCount"].get<int>(), r["maxAttempts"].get<int>());
    }
    json w = json::parse(wkv->value);
    co_return json{{"run", view(r)},
                   {"workflow",
                    {{"id", w["id"]},
                     {"organizationId", w["organizationId"]},
                     {"name", w["name"]},
                     {"revision", w["revision"]},
                     {"dsl", w["dsl"]}}},
                   {"leaseToken", token}};
  }
  co_return std::nullopt;
}

Task<json> RunService::checkpoint(std::string run_id, json body) {
  auto tok = body.find("leaseToken");
  if (tok == body.end() || !tok->is_string() || tok->get_ref<const std::string&>().empty() ||
      tok->get_ref<const std::string&>().size() > 200) {
    throw api::invalid("\"leaseToken\" (from the claim) is required", {{"field", "leaseToken"}});
  }
  const std::string token_hash = crypto::sha256_hex(tok->get<std::string>());
  json events = body.value("events", json::array());
  if (!events.is_array() || static_cast<int>(events.size()) > settings_.max_events_per_checkpoint) {
    throw api::invalid("\"events\" must be an array of at most " +
                           std::to_string(settings_.max_events_per_checkpoint) + " events",
                       {{"field", "events"}});
  }
  const std::string outcome = body.value("outcome", "");
  if (!outcome.empty() && outcome != "succeeded" && outcome != "failed" && outcome != "retry")
    throw api::invalid("\"outcome\" must be succeeded, failed or retry", {{"field", "outcome"}});
  if (body.contains("cursor")) check_size(body["cursor"], "cursor", settings_.max_state_bytes);
  if (body.contains("output")) check_size(body["output"], "output", settings_.max_state_bytes);
  if (body.contains("blocked") && !body["blocked"].is_null() && !body["blocked"].is_object())
    throw api::invalid("\"blocked\" must be an object or null", {{"field", "blocked"}});
  if (body.contains("blocked")) check_size(body["blocked"], "blocked", 16 * 1024);
  if (body.contains("error") && !body["error"].is_null() &&
      (!body["error"].is_string() || body["error"].get_ref<const std::string&>().size() > 4000))
    throw api::invalid("\"error\" must be a string of at most 4000 characters",
                       {{"field", "error"}});
  const int64_t retry_ms = int_field(body, "retryDelayMs", 1000, 0, 3600000);
  const int64_t expected_seq = int_field(body, "expectedSeq", 0, 1, int64_t{1} << 50);

  for (int i = 0; i < kCommitTries; ++i) {
    std::optional<core::KV> kv = co_await storage_.get(keys::workflow_run(run_id));
    if (!kv) throw run_not_found(run_id);
    json r = json::parse(kv->value);
    const std::string status = r.value("status", "");
    if (status == "canceled") {
      throw api::ApiError("RUN_CANCELED", "run " + run_id + " was canceled; stop working on it",
                          {{"runId", run_id}});
    }
    const bool token_matches =
        r["leaseTokenSha256"].is_string() &&
        crypto::equal_ct(r["leaseTokenSha256"].get<std::string>(), token_hash);
    // The worker that ended the run resending its last checkpoint (the answer was lost): the
    // run ended as it asked, nothing more to store.
    if (token_matches && ended(status) && expected_seq > 0 &&
        r["nextSeq"].get<int64_t>() >= expected_seq + static_cast<int64_t>(events.size())) {
      json seqs = json::array();
      for (size_t k = 0; k < events.size(); ++k)
        seqs.push_back(expected_seq + static_cast<int64_t>(k));
      co_return json{{"run", view(r)}, {"seqs", seqs}, {"duplicate", true}};
    }
    const bool holder = status == "running" && token_matches;
    if (!holder) {
      const std::string now_held =
          status == "running" && r["leaseOwner"].is_string()
              ? "worker " + r["leaseOwner"].get<std::string>() + " holds it now"
              : "it is " + status + " now";
      throw api::ApiError("LEASE_LOST",
                          "run " + run_id + ": this lease is no longer valid (" + now_held +
                              "); stop working on it",
                          {{"runId", run_id}, {"status", status}});
    }
    // A checkpoint resent after its answer was lost: its events are already stored (only the
    // lease holder appends, one checkpoint at a time), so they are not stored again.
    if (expected_seq > 0 && r["nextSeq"].get<int64_t>() != expected_seq) {
      const int64_t next = r["nextSeq"].get<int64_t>();
      if (next < expected_seq || next - expected_seq < static_cast<int64_t>(events.size())) {
        throw api::ApiError("CONFLICT",
                            "expectedSeq " + std::to_string(expected_seq) +
                                " does not follow the run's log (its next seq is " +
                                std::to_string(next) + ")",
                            {{"runId", run_id}, {"nextSeq", next}});
      }
      json seqs = json::array();
      for (size_t k = 0; k < events.size(); ++k)
        seqs.push_back(expected_seq + static_cast<int64_t>(k));
      co_return json{{"run", view(r)}, {"seqs", seqs}, {"duplicate", true}};
    }
    const int64_t now = util::now_ms();
    const int64_t old_ready = r["readyMs"].get<int64_t>();
    json appended = json::array();
    json seqs = json::array();
    for (size_t k = 0; k < events.size(); ++k) {
      const uint64_t seq = r["nextSeq"].get<uint64_t>();
      appended.push_back(worker_event(r, seq, events[k], k));
      seqs.push_back(seq);
      r["nextSeq"] = seq + 1;
    }
    if (body.contains("cursor")) r["cursor"] = body["cursor"];
    if (body.contains("blocked")) r["blocked"] = body["blocked"];
    json ready = nullptr;
    if (outcome.empty()) {
      const int64_t lease_ms =
          int_field(body, "leaseMs", r.value("leaseMs", settings_.default_lease_ms), 1000, 600000);
      r["leaseMs"] = lease_ms;
      r["leaseExpiresMs"] = now + lease_ms;
      r["leaseExpiresAt"] = util::iso8601(now + lease_ms);
      ready = now + lease_ms;
    } else if (outcome == "retry") {
      if (r["attemptCount"].get<int>() >= r["maxAttempts"].get<int>()) {
        throw api::ApiError("CONFLICT",
                            "attempt " + std::to_string(r["attemptCount"].get<int>()) +
                                " was the run's last (maxAttempts " +
                                std::to_string(r["maxAttempts"].get<int>()) +
                                "): end it with outcome failed",
                            {{"runId", run_id}});
      }
      r["status"] = "queued";
      r["blocked"] = nullptr;
      r["error"] = body.value("error", json());
      r["nextAttemptAt"] = util::iso8601(now + retry_ms);
      clear_lease(r);
      ready = now + retry_ms;
    } else {
      r["status"] = outcome;
      r["blocked"] = nullptr;
      if (body.contains("output")) r["output"] = body["output"];
      r["error"] = outcome == "failed" ? body.value("error", json("failed")) : json();
      r["finishedAt"] = util::iso8601(now);
      clear_lease(r);
      // Kept (hashed) so that this worker's resend of this very checkpoint is recognised.
      r["leaseTokenSha256"] = token_hash;
    }
    r["readyMs"] = ready;
    Txn txn;
    txn.compares.push_back(Compare::version_is(keys::workflow_run(run_id), kv->version));
    const std::string old_key = ready_key(old_ready, run_id);
    const std::string new_key =
        ready.is_null() ? std::string() : ready_key(ready.get<int64_t>(), run_id);
    if (new_key != old_key) {
      txn.writes.push_back(Write::del(old_key));
      if (!new_key.empty()) txn.writes.push_back(Write::put(new_key, ""));
    }
    txn.writes.push_back(Write::put(keys::workflow_run(run_id), r.dump()));
    for (const auto& ev : appended) {
      txn.writes.push_back(Write::put(
          keys::workflow_run_events(run_id) + keys::padded(ev["seq"].get<uint64_t>()), ev.dump()));
    }
    core::TxnOutcome out = co_await storage_.commit(std::move(txn));
    if (!out.applied) continue;  // the same worker's other checkpoint, a cancel or a takeover
    if (!appended.empty()) stored(r, appended);
    if (outcome == "retry") {
      L()->info("run {}: attempt {} failed ({}); retried in {} ms", run_id,
                r["attemptCount"].get<int>(),
                r["error"].is_string() ? r["error"].get<std::string>() : "", retry_ms);
      wake_claimers_at(now + retry_ms);
    } else if (!outcome.empty()) {
      L()->info("run {} {}{}", run_id, outcome,
                r["error"].is_string() ? " (" + r["error"].get<std::string>() + ")" : "");
    }
    co_return json{{"run", view(r)}, {"seqs", seqs}};
  }
  throw api::unavailable("run " + run_id + " keeps changing; retry the checkpoint");
}

void RunService::stored(const json& run, const json& events) {
  followers_.wake(run["id"].get<std::string>());
  if (on_events_) on_events_(run, events);
}

void RunService::wake_claimers_at(int64_t ready_ms) {
  const int64_t delay = std::max<int64_t>(0, ready_ms - util::now_ms());
  auto id = std::make_shared<core::Deadlines::Id>(0);
  *id = deadlines_.after(std::chrono::milliseconds(delay), [this, id] {
    wake_timers_.erase(*id);
    claimers_.wake(kClaimKey);
  });
  wake_timers_.insert(*id);
}

RunService::~RunService() {
  for (auto id : wake_timers_) deadlines_.cancel(id);
}

}  // namespace vespid::workflows
