#include "services/dispatch/dispatch_request.hpp"

#include "runtime/api_error.hpp"
#include "runtime/uuid_text.hpp"

namespace vespid::dispatch {

using nlohmann::json;

namespace {

constexpr const char* kUuidForm =
    "a uuid (8-4-4-4-12 hex digits, version digit 1-8, variant digit 8, 9, a or b)";

[[noreturn]] void bad(const std::string& field, const std::string& expected) {
  throw api::invalid("invalid dispatch payload: \"" + field + "\" must be " + expected,
                     {{"field", field}});
}

// The fields' strings are read in place (get_ref) and copied once, into the request.
std::string required_text(const json& body, const char* field, size_t max = 256) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty() ||
      it->get_ref<const std::string&>().size() > max) {
    bad(field, "a non-empty string of at most " + std::to_string(max) + " characters");
  }
  return it->get_ref<const std::string&>();
}

// The reference's gateway answers 400 for these unless they are uuids, and its node agent drops an
// execute whose organizationId or userId is not one, so the ids are checked as it checks them.
std::string required_uuid(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_string() || !util::is_uuid(it->get_ref<const std::string&>())) {
    bad(field, kUuidForm);
  }
  return it->get_ref<const std::string&>();
}

std::string optional_text(const json& obj, const char* field, const std::string& path) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string() || it->get_ref<const std::string&>().size() > 128) {
    bad(path, "a string of at most 128 characters");
  }
  return it->get_ref<const std::string&>();
}

// A node host's id is a uuid this gateway made (lower case); anything else could match no host.
// Empty or null means no such selector, as for the other selector fields.
std::string optional_agent_id(const json& obj, const char* field, const std::string& path) {
  std::string id = optional_text(obj, field, path);
  if (id.empty()) return id;
  if (!util::is_uuid(id)) bad(path, kUuidForm);
  return util::lowercase_uuid(id);
}

}  // namespace

json Selector::to_json() const {
  json j = json::object();
  if (!tag.empty()) j["tag"] = tag;
  if (!group.empty()) j["group"] = group;
  if (!agent_id.empty()) j["agentId"] = agent_id;
  return j;
}

std::string DispatchRequest::request_id() const {
  return run_id + ":" + node_id + ":" + std::to_string(attempt_count);
}

DispatchRequest parse_dispatch_request(json body, const RequestLimits& limits) {
  if (!body.is_object())
    throw api::invalid("invalid dispatch payload: the body must be a JSON object");
  DispatchRequest r;
  // The org is compared with the ids this gateway made, so it is taken in their lower case. The
  // other ids go on as given: the caller computes the requestId from its own runId.
  r.organization_id = util::lowercase_uuid(required_uuid(body, "organizationId"));
  r.requested_by_user_id = required_uuid(body, "requestedByUserId");
  r.run_id = required_uuid(body, "runId");
  r.workflow_id = required_uuid(body, "workflowId");
  r.node_id = required_text(body, "nodeId");
  r.node_type = required_text(body, "nodeType");
  // ':' separates the parts of a requestId; inside a part it would make two requests collide.
  // (A uuid has none, so runId needs no such check.)
  if (r.node_id.find(':') != std::string::npos) bad("nodeId", "free of ':'");

  auto attempt = body.find("attemptCount");
  if (attempt == body.end() || !attempt->is_number_integer() || attempt->get<int64_t>() < 1 ||
      attempt->get<int64_t>() > 1000) {
    bad("attemptCount", "an integer from 1 to 1000");
  }
  r.attempt_count = attempt->get<int>();

  r.kind = required_text(body, "kind");
  if (r.kind != "connector.action" && r.kind != "agent.execute" && r.kind != "agent.run") {
    bad("kind", "one of connector.action, agent.execute, agent.run");
  }
  if (auto p = body.find("payload"); p != body.end()) r.payload = std::move(*p);
  if (r.kind == "connector.action") {
    // The host needs to know which connector and action; checked here so a bad request is a
    // 400 now rather than a failed result later.
    if (!r.payload.is_object() || !r.payload.contains("connectorId") ||
        !r.payload["connectorId"].is_string() ||
        r.payload["connectorId"].get<std::string>().empty() || !r.payload.contains("actionId") ||
        !r.payload["actionId"].is_string() || r.payload["actionId"].get<std::string>().empty()) {
      bad("payload", "{connectorId, actionId, ...} for kind connector.action");
    }
  }

  // The older flat selector fields, then the newer object (which wins where both are given).
  r.selector.tag = optional_text(body, "selectorTag", "selectorTag");
  r.selector.group = optional_text(body, "selectorGroup", "selectorGroup");
  r.selector.agent_id = optional_agent_id(body, "selectorAgentId", "selectorAgentId");
  if (auto es = body.find("executorSelector"); es != body.end() && !es->is_null()) {
    if (!es->is_object()) bad("executorSelector", "an object {tag?, group?, agentId?}");
    if (auto v = optional_text(*es, "tag", "executorSelector.tag"); !v.empty()) r.selector.tag = v;
    if (auto v = optional_text(*es, "group", "executorSelector.group"); !v.empty())
      r.selector.group = v;
    if (auto v = optional_agent_id(*es, "agentId", "executorSelector.agentId"); !v.empty())
      r.selector.agent_id = v;
  }

  if (auto s = body.find("secret"); s != body.end() && !s->is_null()) {
    if (!s->is_string() || s->get_ref<const std::string&>().empty()) {
      bad("secret", "a non-empty string");
    }
    r.secret = s->get_ref<const std::string&>();
  }
  if (auto t = body.find("timeoutMs"); t != body.end() && !t->is_null()) {
    if (!t->is_number_integer() || t->get<int64_t>() < limits.min_timeout_ms ||
        t->get<int64_t>() > limits.max_timeout_ms) {
      bad("timeoutMs", "an integer from " + std::to_string(limits.min_timeout_ms) + " to " +
                           std::to_string(limits.max_timeout_ms));
    }
    r.timeout_ms = t->get<int64_t>();
  }
  return r;
}

}  // namespace vespid::dispatch
