#include "services/workflows/workflow_service.hpp"

#include <algorithm>

#include "runtime/api_error.hpp"
#include "runtime/crypto.hpp"
#include "runtime/json_fields.hpp"
#include "runtime/logging.hpp"
#include "runtime/time.hpp"
#include "services/identity/org_access.hpp"
#include "services/workflows/cron_trigger.hpp"
#include "services/workflows/workflow_spec.hpp"
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
  return log::get("workflows");
}

constexpr size_t kMaxSpecBytes = 1024 * 1024;
constexpr int kMaxPage = 200;

api::ApiError not_found(const std::string& id) {
  return {"WORKFLOW_NOT_FOUND", "no workflow \"" + id + "\" in this org", {{"workflowId", id}}};
}

std::string name_of(const json& body) {
  auto it = body.find("name");
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty() ||
      it->get_ref<const std::string&>().size() > 200) {
    throw api::invalid("\"name\" must be a string of 1 to 200 characters", {{"field", "name"}});
  }
  return *it;
}

// A webhook trigger's token is a secret: kept only as "sha256:<hex>" (docs/workflows.md). A spec
// read back and stored again keeps its hash as it is.
json with_hashed_webhook_token(json dsl) {
  auto t = dsl.find("trigger");
  if (t == dsl.end() || !t->is_object() || t->value("type", "") != "trigger.webhook") return dsl;
  auto c = t->find("config");
  if (c == t->end() || !c->is_object()) return dsl;
  auto tok = c->find("token");
  if (tok == c->end() || !tok->is_string()) return dsl;
  if (is_hashed_webhook_token(tok->get<std::string>())) return dsl;
  *tok = kWebhookHashPrefix + crypto::sha256_hex(tok->get<std::string>());
  return dsl;
}

// The spec checked; a refusal names every problem (details.issues). Graph problems keep the
// reference's codes; any shape problem makes it BAD_REQUEST.
json checked_spec(const json& body) {
  auto it = body.find("dsl");
  if (it == body.end())
    throw api::invalid("\"dsl\" is required (the workflow spec)", {{"field", "dsl"}});
  if (it->dump().size() > kMaxSpecBytes)
    throw api::invalid("\"dsl\" is larger than 1 MiB", {{"field", "dsl"}});
  const auto issues = validate_workflow_spec(*it);
  if (issues.empty()) return with_hashed_webhook_token(*it);
  json list = json::array();
  bool shape = false;
  for (const auto& i : issues) {
    list.push_back(to_json(i));
    shape = shape || i.code == "INVALID_SPEC" || i.code == "DUPLICATE_NODE_ID";
  }
  const std::string summary =
      std::to_string(issues.size()) + " problem" + (issues.size() == 1 ? "" : "s") +
      " in the workflow spec; the first: " +
      (issues[0].field.empty() ? "" : issues[0].field + ": ") + issues[0].message;
  throw api::ApiError(shape ? "INVALID_REQUEST" : issues[0].code, summary, {{"issues", list}});
}

// The public view: the record's own fields plus the reference's names.
json view(const json& r) {
  json v = r;
  v.erase("createdMs");
  return v;
}

}  // namespace

Task<json> WorkflowService::require_workflow(Caller caller, std::string workflow_id, bool write) {
  Task<auth::OrgAccess> at = auth::require_org_access(
      repo_, caller.who, caller.org_id, write ? repo::OrgRole::Admin : repo::OrgRole::Member);
  auth::OrgAccess access = co_await std::move(at);
  if (workflow_id.empty() || workflow_id.size() > 128) throw not_found(workflow_id);
  auto kv = co_await storage_.get(keys::workflow(workflow_id));
  if (!kv) throw not_found(workflow_id);
  json r = json::parse(kv->value);
  if (r.value("organizationId", "") != access.org_id) throw not_found(workflow_id);
  r["__version"] = kv->version;
  co_return r;
}

Task<json> WorkflowService::store_revision(json record, uint64_t expected_version,
                                           int64_t first_created_us) {
  const bool first = first_created_us > 0;
  const std::string id = record["id"];
  const uint64_t revision = record["revision"];
  Txn txn;
  txn.compares.push_back(first ? Compare::absent(keys::workflow(id))
                               : Compare::version_is(keys::workflow(id), expected_version));
  txn.writes.push_back(Write::put(keys::workflow(id), record.dump()));
  json rev = {{"revision", revision},
              {"name", record["name"]},
              {"dsl", record["dsl"]},
              {"createdAt", record["updatedAt"]},
              {"createdByUserId", record["updatedByUserId"]}};
  txn.writes.push_back(
      Write::put(keys::workflow_revisions(id) + keys::padded(revision), rev.dump()));
  if (first) {
    txn.writes.push_back(
        Write::put(keys::org_workflows(record["organizationId"].get<std::string>()) +
                       keys::padded(static_cast<uint64_t>(first_created_us)) + "/" + id,
                   ""));
  }
  core::TxnOutcome out = co_await storage_.commit(std::move(txn));
  if (!out.applied) throw api::conflict("the workflow changed meanwhile; read it again and retry");
  co_return view(record);
}

Task<json> WorkflowService::create(Caller caller, json body) {
  Task<auth::OrgAccess> at =
      auth::require_org_access(repo_, caller.who, caller.org_id, repo::OrgRole::Admin);
  auth::OrgAccess access = co_await std::move(at);
  if (!body.is_object()) throw api::invalid("the body must be {name, dsl}");
  const std::string name = name_of(body);
  json dsl = checked_spec(body);
  const int64_t created_us = util::now_us();
  const int64_t now = created_us / 1000;
  json r = {{"id", crypto::uuid_v4()},
            {"organizationId", access.org_id},
            {"name", name},
            {"status", "draft"},
            {"revision", 1},
            {"dsl", dsl},
            {"createdByUserId", caller.who.user_id},
            {"updatedByUserId", caller.who.user_id},
            {"createdAt", util::iso8601(now)},
            {"updatedAt", util::iso8601(now)},
            {"publishedAt", nullptr},
            {"createdMs", now}};
  Task<json> t = store_revision(r, 0, created_us);
  json out = co_await std::move(t);
  L()->info("workflow {} (\"{}\", {}) created in org {} by {}", out["id"].get<std::string>(), name,
            dsl.value("version", ""), access.org_id, caller.who.user_id);
  co_return out;
}

Task<json> WorkflowService::list(Caller caller, int limit, std::string cursor) {
  Task<auth::OrgAccess> at =
      auth::require_org_access(repo_, caller.who, caller.org_id, repo::OrgRole::Member);
  auth::OrgAccess access = co_await std::move(at);
  limit = std::clamp(limit <= 0 ? 50 : limit, 1, kMaxPage);
  const std::string prefix = keys::org_workflows(access.org_id);
  if (!cursor.empty() && cursor.find('/') == std::string::npos)
    throw api::invalid("\"cursor\" is not a cursor this API gave out", {{"field", "cursor"}});
  std::string end = cursor.empty() ? core::StorageService::prefix_end(prefix) : prefix + cursor;
  auto rows = co_await storage_.scan(prefix, end, static_cast<uint32_t>(limit + 1), true);
  json out = json::array();
  json next = nullptr;
  for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(limit); ++i) {
    const std::string tail = rows[i].key.substr(prefix.size());
    auto kv = co_await storage_.get(keys::workflow(tail.substr(tail.find('/') + 1)));
    if (kv) out.push_back(view(json::parse(kv->value)));
    if (rows.size() > static_cast<size_t>(limit)) next = tail;
  }
  co_return json{{"workflows", out}, {"nextCursor", next}};
}

Task<json> WorkflowService::get(Caller caller, std::string workflow_id) {
  Task<json> t = require_workflow(std::move(caller), std::move(workflow_id), false);
  json r = co_await std::move(t);
  r.erase("__version");
  co_return view(r);
}

Task<json> WorkflowService::update(Caller caller, std::string workflow_id, json body) {
  if (!body.is_object()) throw api::invalid("the body must be {name?, dsl?}");
  const std::string who = caller.who.user_id;
  Task<json> t = require_workflow(std::move(caller), workflow_id, true);
  json r = co_await std::move(t);
  const uint64_t version = r["__version"];
  r.erase("__version");
  if (r.value("status", "") == "published") {
    throw api::ApiError("CONFLICT", "published workflows cannot be edited; create a new one",
                        {{"workflowId", workflow_id}});
  }
  if (body.contains("name")) r["name"] = name_of(body);
  if (body.contains("dsl")) r["dsl"] = checked_spec(body);
  r["revision"] = r["revision"].get<uint64_t>() + 1;
  r["updatedAt"] = util::now_iso8601();
  r["updatedByUserId"] = who;
  Task<json> st = store_revision(r, version, 0);
  json out = co_await std::move(st);
  co_return out;
}

Task<json> WorkflowService::revisions(Caller caller, std::string workflow_id, int limit) {
  Task<json> t = require_workflow(std::move(caller), workflow_id, false);
  co_await std::move(t);
  limit = std::clamp(limit <= 0 ? 50 : limit, 1, kMaxPage);
  auto rows = co_await storage_.scan_prefix(keys::workflow_revisions(workflow_id),
                                            static_cast<uint32_t>(limit), true);
  json out = json::array();
  for (const auto& row : rows) out.push_back(json::parse(row.value));
  co_return json{{"revisions", out}};
}

Task<json> WorkflowService::publish(Caller caller, std::string workflow_id) {
  const std::string who = caller.who.user_id;
  Task<json> t = require_workflow(std::move(caller), workflow_id, true);
  json r = co_await std::move(t);
  const uint64_t version = r["__version"];
  r.erase("__version");
  if (r.value("status", "") == "published") co_return view(r);
  r["status"] = "published";
  r["publishedAt"] = util::now_iso8601();
  r["publishedByUserId"] = who;
  Txn txn;
  txn.compares.push_back(Compare::version_is(keys::workflow(workflow_id), version));
  txn.writes.push_back(Write::put(keys::workflow(workflow_id), r.dump()));
  // A cron trigger's first tick, stored with the publication so it cannot be lost.
  const std::optional<int64_t> first_tick = next_cron_tick(r["dsl"], util::now_ms());
  if (first_tick) txn.writes.push_back(Write::put(keys::cron_due(*first_tick, workflow_id), ""));
  // A webhook trigger is found by its token's hash; two workflows cannot share one.
  const std::string hook = webhook_token_hash(r["dsl"]);
  if (!hook.empty()) {
    txn.compares.push_back(Compare::absent(keys::webhook(hook)));
    txn.writes.push_back(Write::put(keys::webhook(hook), workflow_id));
  }
  core::TxnOutcome out = co_await storage_.commit(std::move(txn));
  if (!out.applied && !hook.empty()) {
    std::optional<core::KV> taken = co_await storage_.get(keys::webhook(hook));
    if (taken && taken->value != workflow_id) {
      throw api::ApiError("CONFLICT",
                          "another workflow already uses this webhook token; give this one its "
                          "own (a long random secret)",
                          {{"field", "dsl.trigger.config.token"}});
    }
  }
  if (!out.applied) throw api::conflict("the workflow changed meanwhile; read it again and retry");
  L()->info("workflow {} published at revision {}{}", workflow_id, r["revision"].get<uint64_t>(),
            first_tick ? "; first cron tick " + util::iso8601(*first_tick) : std::string());
  if (first_tick && on_cron_scheduled_) on_cron_scheduled_(*first_tick);
  co_return view(r);
}

bool is_hashed_webhook_token(const std::string& token) {
  return token.size() == kWebhookHashPrefix.size() + 64 && token.rfind(kWebhookHashPrefix, 0) == 0;
}

std::string webhook_token_hash(const json& dsl) {
  if (!dsl.is_object()) return "";
  auto t = dsl.find("trigger");
  if (t == dsl.end() || !t->is_object() || t->value("type", "") != "trigger.webhook") return "";
  const json config = t->value("config", json::object());
  const std::string token = config.is_object() ? config.value("token", "") : "";
  return is_hashed_webhook_token(token) ? token.substr(kWebhookHashPrefix.size()) : "";
}

}  // namespace vespid::workflows
