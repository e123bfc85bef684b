#include "services/dispatch/dispatch_request.hpp"

#include <cstdint>

#include "json_scan.hpp"
#include "json_write.hpp"
#include "runtime/api_error.hpp"
#include "runtime/json_input.hpp"
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

DispatchRequest parse_dispatch_request(const json& body, const RequestLimits& limits) {
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
  const json* payload = nullptr;
  if (auto p = body.find("payload"); p != body.end()) payload = &*p;
  if (r.kind == "connector.action") {
    // The host needs to know which connector and action; checked here so a bad request is a
    // 400 now rather than a failed result later.
    auto non_empty = [&](const char* field) {
      auto it = payload->find(field);
      return it != payload->end() && it->is_string() && !it->get_ref<const std::string&>().empty();
    };
    if (payload == nullptr || !payload->is_object() || !non_empty("connectorId") ||
        !non_empty("actionId")) {
      bad("payload", "{connectorId, actionId, ...} for kind connector.action");
    }
    r.connector_id = payload->at("connectorId").get_ref<const std::string&>();
  }
  // A DOM from a parse holds only UTF-8; the handler is for a caller that built one itself.
  if (payload != nullptr)
    r.payload_json = json_write::dump(*payload, json::error_handler_t::replace);

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

namespace {

// The typed reading's checks, each the DOM reading's on the same field; false where that one
// would refuse (or where the scan cannot say, such as a key written with escapes).
using json_scan::Kind;
using json_scan::Value;

// A member that is absent or null reads as "not given", as json::find + is_null does.
bool given(const Value* v) {
  return v != nullptr && v->kind != Kind::Null;
}

bool text_of(const Value* v, std::string& out, size_t max) {
  return v != nullptr && v->string_value(out) && !out.empty() && out.size() <= max;
}

bool uuid_of(const Value* v, std::string& out) {
  return v != nullptr && v->string_value(out) && util::is_uuid(out);
}

bool optional_text_of(const Value* v, std::string& out) {
  if (!given(v)) return true;
  return v->string_value(out) && out.size() <= 128;
}

bool optional_agent_id_of(const Value* v, std::string& out) {
  std::string id;
  if (!optional_text_of(v, id)) return false;
  if (id.empty()) return true;
  if (!util::is_uuid(id)) return false;
  out = util::lowercase_uuid(id);
  return true;
}

bool integer_in(const Value* v, int64_t lo, int64_t hi, int64_t& out) {
  if (v == nullptr || v->kind != Kind::Number || !v->integer) return false;
  std::optional<int64_t> n = v->int64();
  if (!n || *n < lo || *n > hi) return false;
  out = *n;
  return true;
}

// A nested object the scan can read member by member (no escaped or repeated key).
std::optional<json_scan::Object> object_of(const Value& v) {
  if (v.kind != Kind::Object) return std::nullopt;
  std::optional<json_scan::Object> o = json_scan::scan_object(v.raw, core::json_input::max_depth());
  if (!o || o->has_escaped_key() || o->has_duplicate_key()) return std::nullopt;
  return o;
}

// The typed reading; the payload, if any, is left as its span of `body` (payload_at).
std::optional<DispatchRequest> read_in_place(std::string_view body, const RequestLimits& limits) {
  const std::optional<json_scan::Object> b =
      json_scan::scan_object(body, core::json_input::max_depth());
  if (!b || b->has_escaped_key() || b->has_duplicate_key()) return std::nullopt;
  DispatchRequest r;
  std::string org;
  int64_t attempt = 0;
  if (!uuid_of(b->find("organizationId"), org) ||
      !uuid_of(b->find("requestedByUserId"), r.requested_by_user_id) ||
      !uuid_of(b->find("runId"), r.run_id) || !uuid_of(b->find("workflowId"), r.workflow_id) ||
      !text_of(b->find("nodeId"), r.node_id, 256) ||
      !text_of(b->find("nodeType"), r.node_type, 256) || r.node_id.find(':') != std::string::npos ||
      !integer_in(b->find("attemptCount"), 1, 1000, attempt) ||
      !text_of(b->find("kind"), r.kind, 256)) {
    return std::nullopt;
  }
  r.organization_id = util::lowercase_uuid(org);
  r.attempt_count = static_cast<int>(attempt);
  if (r.kind != "connector.action" && r.kind != "agent.execute" && r.kind != "agent.run") {
    return std::nullopt;
  }

  const Value* payload = b->find("payload");
  if (r.kind == "connector.action") {
    if (payload == nullptr) return std::nullopt;
    std::optional<json_scan::Object> p = object_of(*payload);
    std::string action;
    if (!p || !text_of(p->find("connectorId"), r.connector_id, SIZE_MAX) ||
        !text_of(p->find("actionId"), action, SIZE_MAX)) {
      return std::nullopt;
    }
  }
  if (payload != nullptr) {
    // Frames are one line on every transport that frames by lines; JSON allows a line break
    // only as whitespace between tokens, and the DOM reading writes such a payload on one line.
    // Two passes of memchr: find_first_of calls memchr on its two-byte set once per byte of
    // the payload, which for a 64 KiB payload was the request's largest cost.
    if (payload->raw.find('\n') != std::string_view::npos ||
        payload->raw.find('\r') != std::string_view::npos) {
      return std::nullopt;
    }
    r.payload_at = static_cast<std::size_t>(payload->raw.data() - body.data());
    r.payload_size = payload->raw.size();
  }

  if (!optional_text_of(b->find("selectorTag"), r.selector.tag) ||
      !optional_text_of(b->find("selectorGroup"), r.selector.group) ||
      !optional_agent_id_of(b->find("selectorAgentId"), r.selector.agent_id)) {
    return std::nullopt;
  }
  if (const Value* es = b->find("executorSelector"); given(es)) {
    std::optional<json_scan::Object> sel = object_of(*es);
    if (!sel) return std::nullopt;
    // Where given, the object's fields win over the flat ones.
    std::string tag, group, agent_id;
    if (!optional_text_of(sel->find("tag"), tag) || !optional_text_of(sel->find("group"), group) ||
        !optional_agent_id_of(sel->find("agentId"), agent_id)) {
      return std::nullopt;
    }
    if (!tag.empty()) r.selector.tag = std::move(tag);
    if (!group.empty()) r.selector.group = std::move(group);
    if (!agent_id.empty()) r.selector.agent_id = std::move(agent_id);
  }

  if (const Value* s = b->find("secret"); given(s)) {
    std::string secret;
    if (!s->string_value(secret) || secret.empty()) return std::nullopt;
    r.secret = std::move(secret);
  }
  if (const Value* t = b->find("timeoutMs"); given(t)) {
    if (!integer_in(t, limits.min_timeout_ms, limits.max_timeout_ms, r.timeout_ms))
      return std::nullopt;
  }
  return r;
}

}  // namespace

std::optional<DispatchRequest> read_dispatch_request(std::string_view body,
                                                     const RequestLimits& limits) {
  std::optional<DispatchRequest> r = read_in_place(body, limits);
  if (r) r->payload_json.assign(body.substr(r->payload_at, r->payload_size));
  return r;
}

std::optional<DispatchRequest> read_dispatch_request(std::string& bytes, std::size_t from,
                                                     const RequestLimits& limits) {
  std::optional<DispatchRequest> r = read_in_place(std::string_view(bytes).substr(from), limits);
  if (r && r->payload_size > 0) {
    // Offsets, not pointers: a moved string keeps its buffer, or (when short) its bytes.
    r->payload_at += from;
    r->source_bytes = std::move(bytes);
  }
  return r;
}

}  // namespace vespid::dispatch
