// json_scan (libs/json_scan/json_scan.hpp) and the typed views built on it: how the invoke path
// reads an operator's `req` and a node's `invoke-res` without a DOM.
//
// Invariants, for any input:
//  - what the scan takes, json_input (nlohmann with the depth cap) takes too: is_value(t)
//    implies accept(t), and scan_object(t) implies a DOM object;
//  - a scanned object without escaped or repeated keys has the DOM's members, each member's
//    text parses to the DOM's value, a string's unescaped text is the DOM's string, and an
//    int64 is the DOM's integer;
//  - build_dom takes only what is_value takes, and builds exactly nlohmann's DOM (number types
//    included);
//  - view_request and view_invoke_res read what the DOM path reads from the same frame (type,
//    id, method, params; id, ok, the node's payload) and nothing it would refuse, and a
//    request's params members, read in the frame's pass, are a scan of the params alone;
//  - read_dispatch_request (a dispatch-async body) takes only what parse_dispatch_request takes
//    from the DOM, and reads the same request, its payload's text parsing to the DOM's payload;
//  - read_execute_result (a node host's execute_result) takes only frames the DOM's reading
//    takes with a valid status, and reads the same request id, status and error, its result
//    text parsing (under the depth cap) to the DOM reading's result.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "json_scan.hpp"
#include "protocols/bridge/invoke_res_view.hpp"
#include "protocols/node/execute_result_frame.hpp"
#include "protocols/operator/request_view.hpp"
#include "runtime/json_input.hpp"
#include "services/dispatch/dispatch_request.hpp"

namespace {

using nlohmann::json;
namespace js = vespid::json_scan;
namespace ji = vespid::core::json_input;

std::string unescaped(std::string_view raw_string) {
  std::string out;
  js::append_unescaped(out, raw_string.substr(1, raw_string.size() - 2));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const int depth = ji::max_depth();

  if (js::is_value(text, depth)) FUZZ_CHECK(ji::accept(text), "is_value took a refused text");

  json built;
  if (js::build_dom(text, depth, built)) {
    FUZZ_CHECK(js::is_value(text, depth), "build_dom took what is_value refuses");
    FUZZ_CHECK(ji::accept(text), "build_dom took a refused text");
    // dump() tells 1 from 1.0 and unsigned from signed, which == does not.
    FUZZ_CHECK(built.dump() == json::parse(text).dump(), "build_dom built another DOM");
  }

  const auto obj = js::scan_object(text, depth);
  if (obj) {
    FUZZ_CHECK(ji::accept(text), "scan_object took a refused text");
    const json dom = ji::parse(text);
    FUZZ_CHECK(dom.is_object(), "scan_object took a non-object");
    if (!obj->has_escaped_key() && !obj->has_duplicate_key()) {
      FUZZ_CHECK(dom.size() == obj->size(), "member count differs");
      for (std::size_t i = 0; i < obj->size(); ++i) {
        const js::Member& m = (*obj)[i];
        const auto it = dom.find(std::string(m.key));
        FUZZ_CHECK(it != dom.end(), "a scanned key is not in the DOM");
        FUZZ_CHECK(ji::parse(m.value.raw) == *it, "a member's text is not the DOM's value");
        if (m.value.kind == js::Kind::String)
          FUZZ_CHECK(unescaped(m.value.raw) == it->get<std::string>(), "unescaping differs");
        if (auto n = m.value.int64())
          FUZZ_CHECK(it->is_number_integer() && it->get<int64_t>() == *n, "int64 differs");
      }
    }
  }

  if (const auto req = vespid::core::view_request(text, depth)) {
    FUZZ_CHECK(obj.has_value(), "a request view of an unscannable text");
    const json dom = ji::parse(text);
    FUZZ_CHECK(dom.at("type") == "req", "type differs");
    FUZZ_CHECK(dom.at("id") == req->id(), "id differs");
    FUZZ_CHECK(dom.at("id").dump() == req->id_json(), "id's text differs");
    FUZZ_CHECK(dom.at("method") == std::string(req->method), "method differs");
    const auto params = dom.find("params");
    const json expected = params == dom.end() || params->is_null() ? json::object() : *params;
    FUZZ_CHECK(ji::parse(req->params) == expected, "params differ");
    // The params' members, read in the frame's pass, are those a scan of the params alone gives.
    const auto alone = js::scan_object(req->params, depth);
    FUZZ_CHECK(alone.has_value(), "params a scan of their own refuses");
    const js::Object& members = req->params_members;
    FUZZ_CHECK(members.size() == alone->size(), "params' member count differs");
    FUZZ_CHECK(members.has_escaped_key() == alone->has_escaped_key(), "escaped key flag differs");
    FUZZ_CHECK(members.has_duplicate_key() == alone->has_duplicate_key(), "duplicate flag differs");
    for (size_t i = 0; i < members.size(); ++i) {
      FUZZ_CHECK(members[i].key == (*alone)[i].key, "a params key differs");
      FUZZ_CHECK(members[i].value.raw == (*alone)[i].value.raw, "a params value differs");
      FUZZ_CHECK(members[i].value.kind == (*alone)[i].value.kind, "a params kind differs");
    }
  }

  if (const auto res = vespid::core::view_invoke_res(text, depth)) {
    const json dom = ji::parse(text);
    FUZZ_CHECK(dom.at("type") == "invoke-res" && dom.at("ok") == true, "not a success");
    FUZZ_CHECK(dom.at("id") == std::string(res->id), "id differs");
    FUZZ_CHECK(res->payload_json.find_first_of("\r\n") == std::string::npos, "spans lines");
    FUZZ_CHECK(ji::accept(res->payload_json), "payload refused by the DOM parser");
    const auto payload = dom.find("payloadJSON");
    const json expected = payload == dom.end() || payload->is_null()
                              ? json::object()
                              : ji::parse(payload->get<std::string>());
    FUZZ_CHECK(ji::parse(res->payload_json) == expected, "payload differs");
  }
  if (const auto typed = vespid::dispatch::read_dispatch_request(text, {})) {
    FUZZ_CHECK(obj.has_value(), "a dispatch request from an unscannable text");
    vespid::dispatch::DispatchRequest dom;
    try {
      dom = vespid::dispatch::parse_dispatch_request(ji::parse(text), {});
    } catch (const std::exception&) {
      FUZZ_CHECK(false, "the typed reading took a dispatch request the DOM's refuses");
    }
    FUZZ_CHECK(typed->organization_id == dom.organization_id &&
                   typed->requested_by_user_id == dom.requested_by_user_id &&
                   typed->run_id == dom.run_id && typed->workflow_id == dom.workflow_id &&
                   typed->node_id == dom.node_id && typed->node_type == dom.node_type &&
                   typed->attempt_count == dom.attempt_count && typed->kind == dom.kind,
               "the dispatch request's ids differ");
    FUZZ_CHECK(
        typed->selector.tag == dom.selector.tag && typed->selector.group == dom.selector.group &&
            typed->selector.agent_id == dom.selector.agent_id && typed->secret == dom.secret &&
            typed->timeout_ms == dom.timeout_ms && typed->connector_id == dom.connector_id,
        "the dispatch request's selector, secret, timeout or connector differ");
    std::string whole = "{}\n" + std::string(text);  // as a REST message: a head, then the body
    const auto taken = vespid::dispatch::read_dispatch_request(whole, 3, {});
    FUZZ_CHECK(taken && taken->payload() == typed->payload(),
               "the reading that takes the body read another payload");
    FUZZ_CHECK(typed->payload_json.empty() == dom.payload_json.empty(), "payload presence differs");
    FUZZ_CHECK(typed->payload_json.find_first_of("\r\n") == std::string::npos,
               "a payload that spans lines");
    if (!typed->payload_json.empty())
      FUZZ_CHECK(ji::parse(typed->payload_json) == ji::parse(dom.payload_json), "payload differs");
  }
  if (const auto typed = vespid::node_hosts::read_execute_result(text)) {
    FUZZ_CHECK(obj.has_value(), "an execute_result from an unscannable text");
    bool bad_status = false;
    const auto dom = vespid::node_hosts::read_execute_result(ji::parse(text), bad_status);
    FUZZ_CHECK(dom.has_value() && !bad_status,
               "the typed reading took an execute_result the DOM's refuses or fails");
    FUZZ_CHECK(typed->request_id == dom->request_id && typed->succeeded == dom->succeeded &&
                   typed->error == dom->error,
               "the execute_result's id, status or error differ");
    FUZZ_CHECK(ji::accept(typed->text), "a result text the DOM parser refuses");
    FUZZ_CHECK(ji::parse(typed->text) == ji::parse(dom->text), "the result differs");
  }
  return 0;
}
