#include "protocols/bridge/invoke_res_view.hpp"

#include "json_scan.hpp"

namespace vespid::core {

std::optional<InvokeResView> view_invoke_res(std::string_view frame, int max_depth) {
  const std::optional<json_scan::Object> obj = json_scan::scan_object(frame, max_depth);
  if (!obj || obj->has_escaped_key() || obj->has_duplicate_key()) return std::nullopt;
  const json_scan::Value* type = obj->find("type");
  const json_scan::Value* id = obj->find("id");
  const json_scan::Value* ok = obj->find("ok");
  if (type == nullptr || type->plain_string() != "invoke-res" || id == nullptr || ok == nullptr ||
      ok->kind != json_scan::Kind::True)
    return std::nullopt;
  const std::optional<std::string_view> invoke_id = id->plain_string();
  if (!invoke_id) return std::nullopt;
  InvokeResView v;
  v.id = *invoke_id;
  const json_scan::Value* payload = obj->find("payloadJSON");
  if (payload == nullptr || payload->kind == json_scan::Kind::Null) {
    v.payload_json = "{}";
    return v;
  }
  if (!payload->string_value(v.payload_json)) return std::nullopt;
  // Spliced into a JSON-lines frame later: one value, and no line break between its tokens.
  if (v.payload_json.find('\n') != std::string::npos ||
      v.payload_json.find('\r') != std::string::npos ||
      !json_scan::is_value(v.payload_json, max_depth))
    return std::nullopt;
  return v;
}

}  // namespace vespid::core
