#include "protocols/node/execute_result_frame.hpp"

#include "json_scan.hpp"
#include "json_write.hpp"
#include "runtime/json_input.hpp"

namespace vespid::node_hosts {

using json_scan::Kind;
using nlohmann::json;

std::optional<dispatch::HostResult> read_execute_result(std::string_view message) {
  std::optional<json_scan::Object> frame =
      json_scan::scan_object(message, core::json_input::max_depth());
  if (!frame || frame->has_escaped_key() || frame->has_duplicate_key()) return std::nullopt;
  const json_scan::Value* type = frame->find("type");
  if (type == nullptr || type->plain_string() != "execute_result") return std::nullopt;

  dispatch::HostResult r;
  const json_scan::Value* id = frame->find("requestId");
  if (id == nullptr || !id->string_value(r.request_id) || r.request_id.empty() ||
      r.request_id.size() > kMaxRequestIdBytes) {
    return std::nullopt;
  }
  const json_scan::Value* status = frame->find("status");
  const std::optional<std::string_view> status_text =
      status != nullptr ? status->plain_string() : std::nullopt;
  if (status_text != "succeeded" && status_text != "failed") return std::nullopt;
  r.succeeded = status_text == "succeeded";

  const json_scan::Value* output = frame->find("output");
  if (output != nullptr && output->kind == Kind::Null) output = nullptr;
  const json_scan::Value* error = frame->find("error");
  if (error != nullptr && error->kind == Kind::Null) error = nullptr;
  // An error of another kind is stored as its JSON text, which the DOM reading writes.
  if (error != nullptr && !error->string_value(r.error)) return std::nullopt;

  // Members in name order, as the DOM reading's result object is written.
  r.text.reserve(48 + (output != nullptr ? output->raw.size() : 0) + r.error.size());
  r.text.push_back('{');
  if (error != nullptr && !json_write::append_string_member(r.text, "error", r.error))
    return std::nullopt;
  if (output != nullptr) json_write::append_raw_member(r.text, "output", output->raw);
  json_write::append_string_member(r.text, "status", *status_text);
  r.text.push_back('}');
  return r;
}

std::string request_id_of(const json& frame) {
  auto it = frame.find("requestId");
  if (it == frame.end() || !it->is_string()) return {};
  const auto& id = it->get_ref<const std::string&>();
  return id.size() <= kMaxRequestIdBytes ? id : std::string();
}

std::optional<dispatch::HostResult> read_execute_result(const json& frame, bool& bad_status) {
  bad_status = false;
  dispatch::HostResult r;
  r.request_id = request_id_of(frame);
  if (r.request_id.empty()) return std::nullopt;

  auto status = frame.find("status");
  json result;
  if (status == frame.end() || (*status != "succeeded" && *status != "failed")) {
    bad_status = true;
    result = {{"status", "failed"},
              {"error",
               "the node host sent a malformed result (status was not \"succeeded\" "
               "or \"failed\")"}};
  } else {
    result = {{"status", *status}};
    if (auto o = frame.find("output"); o != frame.end() && !o->is_null()) result["output"] = *o;
    if (auto e = frame.find("error"); e != frame.end() && !e->is_null())
      result["error"] = e->is_string() ? e->get<std::string>() : e->dump();
  }
  r.succeeded = result["status"] == "succeeded";
  if (auto e = result.find("error"); e != result.end()) r.error = e->get<std::string>();
  // A DOM from a parse holds only UTF-8; the handler is for a frame built in memory.
  r.text = json_write::dump(result, json::error_handler_t::replace);
  return r;
}

}  // namespace vespid::node_hosts
