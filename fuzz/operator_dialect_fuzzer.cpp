// operator.v1 frames (core/protocols/operator/operator_dialect.cpp): the input is what an
// operator writes on one connection, one frame per line after a first byte that picks who is
// connected (odd: the local administrator; even: an anonymous peer). The dialect is the real
// one; its method table holds harness methods that exercise every way a method answers: a
// payload (echo), a JSON text spliced as is (splice, as a node's answer travels), an API error
// with details (fail), an unexpected exception (throws), a concurrent method (later) and one
// open to anonymous peers (ping).
//
// Invariants: exactly one `res` per frame, a JSON object (strict UTF-8); its id is the request's
// when that was a string or an integer, else null; ok:true exactly when the method exists, the
// role may call it and it succeeded; echo's payload is the params ({} when absent or null);
// splice's payload is the text's value; a failure carries string code and message.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core_rig.hpp"
#include "json_util.hpp"
#include "protocols/method_table.hpp"
#include "protocols/operator/operator_dialect.hpp"
#include "runtime/api_error.hpp"
#include "runtime/deadlines.hpp"
#include "runtime/json_input.hpp"
#include "runtime/json_text.hpp"
#include "storage/repository.hpp"

namespace {

using nlohmann::json;
using vespid::core::CallContext;
using vespid::core::CallResult;
using vespid::core::Role;
using vespid::core::Task;
using vespid::fuzz::wire;

Task<CallResult> echo(CallContext, json params) {
  co_return CallResult{params, std::nullopt, {}};
}

Task<CallResult> splice(CallContext, json params) {
  const json text = params.value("text", json());
  if (!text.is_string() ||
      !vespid::core::json_text::is_spliceable_value(text.get_ref<const std::string&>())) {
    throw vespid::api::invalid("text must be one JSON value on one line");
  }
  co_return CallResult{nullptr, std::nullopt, text.get<std::string>()};
}

Task<CallResult> fail(CallContext, json params) {
  throw vespid::api::ApiError("CONFLICT", params.value("message", std::string("no")),
                              params.value("details", json()));
  co_return CallResult{};
}

Task<CallResult> throws(CallContext, json) {
  throw std::runtime_error("unexpected");
  co_return CallResult{};
}

struct World {
  vespid::fuzz::Rig rig;
  vespid::repo::Repository repo{rig.storage()};
  vespid::core::MethodTable methods;
  vespid::core::Deadlines deadlines{rig.loop()};
  vespid::core::OperatorDialect dialect{methods, repo, deadlines, std::chrono::seconds(10)};
  World() {
    const std::set<Role> admin = {Role::LocalAdmin, Role::Operator};
    methods.add({"echo", admin, "", echo});
    methods.add({"splice", admin, "", splice});
    methods.add({"fail", admin, "", fail});
    methods.add({"throws", admin, "", throws});
    methods.add({"later", admin, "", echo, /*concurrent=*/true});
    methods.add({"ping", {Role::Anonymous, Role::LocalAdmin}, "", echo});
  }
};

// What the answer to `text` must be.
struct Expect {
  json id;  // null when the request's is missing or not a string or integer
  bool ok = false;
  std::optional<json> payload;  // checked when set
  bool unchecked = false;       // known defect 4: a spliced text with a NUL byte
};

Expect expect(std::string_view text, bool admin) {
  Expect e;
  json frame;
  try {
    frame = vespid::core::json_input::parse(text);
  } catch (const json::exception&) {  // parse_error, or out_of_range 406 (known defect 1)
    return e;
  }
  if (!frame.is_object() || !frame.contains("type") || !frame["type"].is_string()) return e;
  const json id = frame.value("id", json());
  const bool id_ok = id.is_string() || id.is_number_integer();
  if (frame["type"] != "req") {
    if (id_ok) e.id = id;  // only a scalar id is echoed, never a peer's structure
    return e;
  }
  if (!id_ok) return e;
  e.id = id;
  if (!frame.contains("method") || !frame["method"].is_string()) return e;
  json params = frame.value("params", json::object());
  if (params.is_null()) params = json::object();
  if (!params.is_object()) return e;
  const std::string method = frame["method"];
  if (method == "ping" || (admin && (method == "echo" || method == "later"))) {
    e.ok = true;
    if (!vespid::fuzz::has_non_finite(params)) e.payload = params;
  } else if (admin && method == "splice") {
    const json t = params.value("text", json());
    if (t.is_string() &&
        vespid::core::json_text::is_spliceable_value(t.get_ref<const std::string&>())) {
      if (t.get_ref<const std::string&>().find('\0') != std::string::npos) {
        FUZZ_CHECK(!vespid::fuzz::check_known_bugs(), "a NUL byte is spliced into a res");
        e.unchecked = true;
        return e;
      }
      e.ok = true;
      const json value = json::parse(t.get<std::string>());
      if (!vespid::fuzz::has_non_finite(value)) e.payload = value;
    }
  }
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World;
  if (size == 0) return 0;
  const bool admin = (data[0] & 1) != 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto conn = world->rig.open("operator.v1", admin ? VSP_CONN_LOCAL_ADMIN : 0);
  FUZZ_CHECK(!world->rig.run(world->dialect.on_open(conn)), "on_open failed");
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    const std::size_t before = wire().sent.size();
    world->rig.frame(world->dialect, conn, std::string(line));
    // A concurrent method answers from a task of its own: let it finish.
    while (world->rig.loop().io().poll_one() > 0) {
    }
    FUZZ_CHECK(wire().sent.size() == before + 1, "not exactly one answer to a frame");
    const Expect want = expect(line, admin);
    if (want.unchecked) continue;
    const auto res = vespid::fuzz::parse_strict(wire().sent.back());
    FUZZ_CHECK(res && res->is_object(), "an answer that is not a JSON object");
    FUZZ_CHECK(res->value("type", json()) == "res", "an answer that is not a res");
    FUZZ_CHECK((*res)["id"] == want.id, "the answer's id is not the request's");
    FUZZ_CHECK((*res)["ok"] == want.ok, "ok is not what the request deserves");
    if (want.ok) {
      if (want.payload) FUZZ_CHECK((*res)["payload"] == *want.payload, "the payload changed");
    } else {
      const json& err = (*res)["error"];
      FUZZ_CHECK(err.is_object() && err.value("code", json()).is_string() &&
                     err.value("message", json()).is_string(),
                 "a failure without code and message");
    }
  }
  world->rig.close(world->dialect, conn);
  return 0;
}
