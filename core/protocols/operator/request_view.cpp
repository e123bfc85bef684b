#include "protocols/operator/request_view.hpp"

#include "json_scan.hpp"

namespace vespid::core {

std::optional<RequestView> view_request(std::string_view frame, int max_depth) {
  const std::optional<json_scan::Object> obj = json_scan::scan_object(frame, max_depth);
  if (!obj || obj->has_escaped_key() || obj->has_duplicate_key()) return std::nullopt;
  const json_scan::Value* type = obj->find("type");
  const json_scan::Value* id = obj->find("id");
  const json_scan::Value* method = obj->find("method");
  if (type == nullptr || type->plain_string() != "req" || id == nullptr || method == nullptr)
    return std::nullopt;
  RequestView v;
  if (auto s = id->plain_string()) {
    v.id_string = *s;
  } else if (auto n = id->int64()) {
    v.id_integer = *n;
  } else {
    return std::nullopt;
  }
  auto name = method->plain_string();
  if (!name) return std::nullopt;
  v.method = *name;
  const json_scan::Value* params = obj->find("params");
  if (params == nullptr || params->kind == json_scan::Kind::Null) {
    v.params = "{}";
  } else if (params->kind == json_scan::Kind::Object) {
    v.params = params->raw;
  } else {
    return std::nullopt;
  }
  return v;
}

}  // namespace vespid::core
