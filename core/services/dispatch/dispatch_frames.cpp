#include "services/dispatch/dispatch_frames.hpp"

#include "json_write.hpp"

namespace vespid::dispatch {

using nlohmann::json;

namespace {

// The payload's text is JSON the request's reading checked (or the gateway wrote), so it parses.
json payload_dom(const DispatchRequest& r) {
  return r.payload().empty() ? json() : json::parse(r.payload());
}

json execute_dom(const std::string& request_id, const DispatchRequest& r) {
  json execute = {{"type", "execute"},
                  {"requestId", request_id},
                  {"organizationId", r.organization_id},
                  {"userId", r.requested_by_user_id},
                  {"kind", r.kind},
                  {"payload", payload_dom(r)}};
  if (r.secret) execute["secret"] = *r.secret;
  return execute;
}

json record_dom(const DispatchRecord& d) {
  json record = {{"requestId", d.request_id},   {"orgId", d.org_id},
                 {"agentId", d.agent_id},       {"kind", d.kind},
                 {"deadlineMs", d.deadline_ms}, {"dispatchedAt", d.dispatched_at}};
  if (!d.instance.empty()) record["instance"] = d.instance;
  if (!d.resume.is_null()) record["resume"] = d.resume;
  return record;
}

// The payload goes out as the text it came in (checked JSON, UTF-8 included, one line), not
// re-written. It cannot fail; it returns true only to sit in the chain of members below.
bool append_payload(std::string& out, std::string_view payload_json) {
  out += R"(,"payload":)";
  out += payload_json.empty() ? std::string_view("null") : payload_json;
  return true;
}

}  // namespace

std::string execute_frame(const std::string& request_id, const DispatchRequest& r) {
  std::string out = "{";
  out.reserve(256 + r.payload().size());
  // Name order: kind, organizationId, payload, requestId, secret, type, userId.
  const bool ok = json_write::append_string_member(out, "kind", r.kind) &&
                  json_write::append_string_member(out, "organizationId", r.organization_id) &&
                  append_payload(out, r.payload()) &&
                  json_write::append_string_member(out, "requestId", request_id) &&
                  (!r.secret || json_write::append_string_member(out, "secret", *r.secret)) &&
                  json_write::append_string_member(out, "type", "execute") &&
                  json_write::append_string_member(out, "userId", r.requested_by_user_id);
  if (!ok) return json_write::dump(execute_dom(request_id, r), json::error_handler_t::replace);
  out.push_back('}');
  return out;
}

std::string record_text(const DispatchRecord& d) {
  std::string out = "{";
  out.reserve(256);
  // Name order: agentId, deadlineMs, dispatchedAt, instance, kind, orgId, requestId, resume.
  bool ok = json_write::append_string_member(out, "agentId", d.agent_id) &&
            json_write::append_value_member(out, "deadlineMs", d.deadline_ms) &&
            json_write::append_string_member(out, "dispatchedAt", d.dispatched_at) &&
            (d.instance.empty() || json_write::append_string_member(out, "instance", d.instance)) &&
            json_write::append_string_member(out, "kind", d.kind) &&
            json_write::append_string_member(out, "orgId", d.org_id) &&
            json_write::append_string_member(out, "requestId", d.request_id) &&
            (d.resume.is_null() || json_write::append_value_member(out, "resume", d.resume));
  if (!ok) return json_write::dump(record_dom(d));
  out.push_back('}');
  return out;
}

}  // namespace vespid::dispatch
