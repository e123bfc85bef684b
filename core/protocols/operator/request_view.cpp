#include "protocols/operator/request_view.hpp"

#include "json_scan.hpp"

namespace vespid::core {

std::optional<RequestView> view_request(std::string_view frame, int max_depth) {
  // Built in place and returned by name on every path: a view holds its params' members (about
  // 800 bytes), not worth a copy per frame.
  std::optional<RequestView> out(std::in_place);
  RequestView& v = *out;
  const auto read = [&] {
    const std::optional<json_scan::Object> obj =
        json_scan::scan_object(frame, max_depth, "params", v.params_members);
    if (!obj || obj->has_escaped_key() || obj->has_duplicate_key()) return false;
    const json_scan::Value* type = obj->find("type");
    const json_scan::Value* id = obj->find("id");
    const json_scan::Value* method = obj->find("method");
    if (type == nullptr || type->plain_string() != "req" || id == nullptr || method == nullptr)
      return false;
    if (auto s = id->plain_string()) {
      v.id_string = *s;
    } else if (auto n = id->int64()) {
      v.id_integer = *n;
    } else {
      return false;
    }
    auto name = method->plain_string();
    if (!name) return false;
    v.method = *name;
    const json_scan::Value* params = obj->find("params");
    if (params == nullptr || params->kind == json_scan::Kind::Null) {
      v.params = "{}";
    } else if (params->kind == json_scan::Kind::Object) {
      v.params = params->raw;
    } else {
      return false;
    }
    return true;
  };
  if (!read()) out.reset();
  return out;
}

}  // namespace vespid::core
