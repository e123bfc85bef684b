#include "protocols/rest/rest_envelope.hpp"

#include "json_scan.hpp"
#include "json_write.hpp"
#include "runtime/json_input.hpp"

namespace vespid::core {

namespace {

// A string member's value into `out`; false when the member is absent or not a string.
bool read_string(const json_scan::Value* v, std::string& out) {
  return v != nullptr && v->string_value(out);
}

// The headers object's string members, as RestHeaders::from_object takes them from a DOM; false
// when the scan cannot vouch for its keys (escaped, repeated, or more than a scan holds).
bool read_headers(const json_scan::Value& v, RestHeaders& out) {
  const std::optional<json_scan::Object> o = json_scan::scan_object(v.raw, json_input::max_depth());
  if (!o || o->has_escaped_key() || o->has_duplicate_key()) return false;
  RestHeaders headers;
  std::string value;
  for (std::size_t i = 0; i < o->size(); ++i) {
    const json_scan::Member& m = (*o)[i];
    if (m.value.string_value(value)) headers.set(std::string(m.key), std::move(value));
  }
  out = std::move(headers);
  return true;
}

}  // namespace

bool read_envelope_typed(std::string_view text, RestRequest& req, bool* body_member) {
  const std::optional<json_scan::Object> env =
      json_scan::scan_object(text, json_input::max_depth());
  if (!env || env->has_escaped_key() || env->has_duplicate_key()) return false;
  // The DOM reading's defaults: a missing query or body is empty, missing headers an object.
  const json_scan::Value* query = env->find("query");
  const json_scan::Value* body = env->find("body");
  const json_scan::Value* headers = env->find("headers");
  if (body_member != nullptr) *body_member = body != nullptr;
  if (!read_string(env->find("method"), req.method) || !read_string(env->find("path"), req.path))
    return false;
  if (query == nullptr) {
    req.query.clear();
  } else if (!read_string(query, req.query)) {
    return false;
  }
  req.body_at = 0;
  if (body == nullptr) {
    req.body_bytes.clear();
  } else if (!read_string(body, req.body_bytes)) {
    return false;
  }
  if (headers == nullptr) {
    req.headers = RestHeaders();
  } else if (headers->kind != json_scan::Kind::Object) {
    return false;
  } else if (!read_headers(*headers, req.headers)) {
    req.headers = RestHeaders::from_object(json_input::parse(headers->raw));
  }
  return true;
}

namespace {

// The envelope's fields with a DOM, for the shapes the scan does not vouch for; its errors are
// the 400's words.
bool read_envelope_dom(std::string_view text, RestRequest& req, std::string& problem,
                       bool* body_member = nullptr) {
  try {
    const nlohmann::json env = json_input::parse(text);
    if (body_member != nullptr) *body_member = env.is_object() && env.contains("body");
    req.method = env.at("method").get<std::string>();
    req.path = env.at("path").get<std::string>();
    req.query = env.value("query", "");
    req.headers = RestHeaders::from_object(env.value("headers", nlohmann::json::object()));
    req.body_bytes = env.value("body", "");
    req.body_at = 0;
    return true;
  } catch (const nlohmann::json::exception& e) {
    problem = std::string("malformed rest.v1 envelope: ") + e.what();
    return false;
  }
}

}  // namespace

bool read_request(std::string& message, bool raw_body, RestRequest& req, std::string& problem) {
  if (!raw_body) {
    return read_envelope_typed(message, req) || read_envelope_dom(message, req, problem);
  }
  const std::size_t newline = message.find('\n');
  if (newline == std::string::npos) {
    problem = "malformed rest.v1 envelope: no newline between the envelope and the body";
    return false;
  }
  const std::string_view head(message.data(), newline);
  bool body_member = false;
  if (!read_envelope_typed(head, req, &body_member) &&
      !read_envelope_dom(head, req, problem, &body_member)) {
    return false;
  }
  if (body_member) {
    problem = "malformed rest.v1 envelope: a \"body\" member where the body follows the newline";
    return false;
  }
  const std::string_view body = std::string_view(message).substr(newline + 1);
  if (!json_write::valid_utf8(body)) {
    problem = "the request body is not UTF-8 text";
    return false;
  }
  // The body stays where it came: the message is the request's, the head before body_at (no
  // second allocation, and no move to the front, for a body of any size).
  req.body_bytes = std::move(message);
  req.body_at = newline + 1;
  return true;
}

}  // namespace vespid::core
