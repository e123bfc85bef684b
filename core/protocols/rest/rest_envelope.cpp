#include "protocols/rest/rest_envelope.hpp"

#include "json_scan.hpp"
#include "runtime/json_input.hpp"

namespace vespid::core {

namespace {

// A string member's value into `out`; false when the member is absent or not a string.
bool read_string(const json_scan::Value* v, std::string& out) {
  return v != nullptr && v->string_value(out);
}

}  // namespace

bool read_envelope_typed(std::string_view text, RestRequest& req) {
  const std::optional<json_scan::Object> env =
      json_scan::scan_object(text, json_input::max_depth());
  if (!env || env->has_escaped_key() || env->has_duplicate_key()) return false;
  // The DOM reading's defaults: a missing query or body is empty, missing headers an object.
  const json_scan::Value* query = env->find("query");
  const json_scan::Value* body = env->find("body");
  const json_scan::Value* headers = env->find("headers");
  if (!read_string(env->find("method"), req.method) || !read_string(env->find("path"), req.path))
    return false;
  if (query == nullptr) {
    req.query.clear();
  } else if (!read_string(query, req.query)) {
    return false;
  }
  if (body == nullptr) {
    req.body.clear();
  } else if (!read_string(body, req.body)) {
    return false;
  }
  if (headers == nullptr) {
    req.headers = nlohmann::json::object();
  } else if (headers->kind == json_scan::Kind::Object) {
    req.headers = json_input::parse(headers->raw);
  } else {
    return false;
  }
  return true;
}

}  // namespace vespid::core
