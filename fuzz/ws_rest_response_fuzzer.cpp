// The ws plugin's reading of the core's rest.v1 answers (plugins/ws/rest_codec.cpp): the typed
// reading from one scan (decode_response) against nlohmann's DOM (decode_response_dom), on any
// text. The first byte chooses HEAD or GET, keep-alive and HTTP/1.0 or 1.1; the rest is the
// answer.
//
// Invariants: both give the same status, keep-alive and header lines (a name's in order); the same
// body, except that a body given as a JSON value is sent as written by the one and as dump() writes
// it by the other, which must then be the same JSON; the typed reading never reports a problem the
// DOM does not, nor misses one it does.
#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "check.hpp"
#include "json_scan.hpp"
#include "rest_codec.hpp"

namespace {

namespace ws = vespid::ws;
namespace http = boost::beast::http;
using nlohmann::json;

// The header lines, content-length left out when `skip_length`.
std::vector<std::pair<std::string, std::string>> lines(const ws::Response& res, bool skip_length) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : res.base()) {
    if (skip_length && f.name() == http::field::content_length) continue;
    out.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  // The order of lines with different names means nothing in HTTP; that of one name's does.
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// True when the answer's "body" is a JSON value other than a string and null: the one case
// where the two readings write different text for the same body.
bool body_is_value(std::string_view text) {
  const auto doc = vespid::json_scan::scan_object(text, 512);
  if (!doc) return false;
  if (doc->has_duplicate_key() || doc->has_escaped_key()) {
    // Both readings take the DOM for these, where the last of two "body" keys wins and
    // "b\u006fdy" is "body"; the scan's find() would answer for the first one.
    const json dom = json::parse(text, nullptr, false);
    if (!dom.is_object()) return false;
    const auto it = dom.find("body");
    return it != dom.end() && !it->is_string() && !it->is_null();
  }
  const auto* body = doc->find("body");
  return body && body->kind != vespid::json_scan::Kind::String &&
         body->kind != vespid::json_scan::Kind::Null;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool head = (data[0] & 1) != 0, keep_alive = (data[0] & 2) != 0;
  const unsigned version = (data[0] & 4) != 0 ? 10 : 11;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string typed_problem, dom_problem;
  ws::Response typed, dom;
  // Beast may refuse a header the checks let through (HttpSession answers 500 then): both
  // readings must then refuse it.
  bool typed_threw = false, dom_threw = false;
  try {
    typed = ws::decode_response(text, version, keep_alive, head, &typed_problem);
  } catch (const std::exception&) {
    typed_threw = true;
  }
  try {
    dom = ws::decode_response_dom(text, version, keep_alive, head, &dom_problem);
  } catch (const std::exception&) {
    dom_threw = true;
  }
  FUZZ_CHECK(typed_threw == dom_threw, "one reading threw");
  if (typed_threw) return 0;
  FUZZ_CHECK(typed_problem.empty() == dom_problem.empty(), "one reading found a problem");
  FUZZ_CHECK(typed.result_int() == dom.result_int(), "statuses differ");
  FUZZ_CHECK(typed.keep_alive() == dom.keep_alive(), "keep-alive differs");
  const bool as_value = typed_problem.empty() && body_is_value(text);
  FUZZ_CHECK(lines(typed, as_value) == lines(dom, as_value), "header lines differ");
  if (as_value && !typed.body().empty()) {
    FUZZ_CHECK(json::parse(typed.body()) == json::parse(dom.body()), "JSON bodies differ");
  } else {
    FUZZ_CHECK(typed.body() == dom.body(), "bodies differ");
  }
  return 0;
}
