// bridge.v1 frames (core/protocols/bridge): the input is what a node writes on one connection,
// one frame per line, handed to BridgeDialect::on_message in order as the bridge transport does.
// Storage is down (core_rig.hpp), so no hello or pair-request can succeed: this covers every
// frame a node can send before it is authenticated (ping, pong, hello and pair-request up to
// their storage call, req/event/invoke-res before hello, gateway-only and unknown types).
//
// Invariants:
//  - every frame the gateway writes is one JSON object (strict UTF-8) with a string "type";
//    `error` frames carry string code and message; `res` frames are ok:false with an error; a
//    `pong` echoes only a scalar id;
//  - nothing authenticates the connection; what escapes a handler is only what the hub answers
//    for the peer (an API error, a JSON field of the wrong type, a storage failure);
//  - once the connection is closed, none of its deadlines is left behind.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core_rig.hpp"
#include "json_util.hpp"
#include "protocols/bridge/bridge_dialect.hpp"
#include "runtime/deadlines.hpp"
#include "services/nodes/node_router.hpp"
#include "services/nodes/node_store.hpp"

namespace {

using nlohmann::json;
using vespid::fuzz::wire;

struct World {
  vespid::fuzz::Rig rig;
  vespid::core::Deadlines deadlines{rig.loop()};
  vespid::nodes::NodeStore store{rig.storage(), {}};
  vespid::nodes::LocalNodeRouter router{deadlines, 16};
  // The default timeouts: none of them is due while an input runs, so no frame meets a
  // connection the handshake or liveness deadline already closed.
  vespid::core::BridgeDialect dialect{settings(), store, router, deadlines,
                                      [](const vespid::nodes::PendingPairing&) {}};

  static vespid::core::BridgeSettings settings() {
    vespid::core::BridgeSettings s;
    s.server_name = "fuzz-gateway";
    return s;
  }
};

void check_sent(const std::string& message) {
  auto frame = vespid::fuzz::parse_strict(message);
  FUZZ_CHECK(frame && frame->is_object(), "the gateway wrote something that is not a JSON object");
  FUZZ_CHECK(frame->contains("type") && (*frame)["type"].is_string(), "a frame without a type");
  const std::string type = (*frame)["type"];
  FUZZ_CHECK(type != "hello-ok" && type != "pair-ok", "authenticated without storage");
  if (type == "error") {
    FUZZ_CHECK(frame->value("code", json()).is_string(), "an error frame without a code");
    FUZZ_CHECK(frame->value("message", json()).is_string(), "an error frame without a message");
  } else if (type == "res") {
    FUZZ_CHECK(frame->value("ok", true) == false, "a res ok:true before authentication");
    FUZZ_CHECK((*frame)["error"].is_object(), "a failed res without an error");
    const json& id = (*frame)["id"];
    FUZZ_CHECK(id.is_null() || id.is_string() || id.is_number_integer(),
               "a res echoes a structure");
  } else if (type == "pong") {
    if (frame->contains("id")) {
      const json& id = (*frame)["id"];
      FUZZ_CHECK(id.is_string() || id.is_number(), "a pong echoes a structure");
    }
  } else {
    FUZZ_CHECK(false, "an unexpected frame type before authentication");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World;  // one gateway for every input, as in a long-running process
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto conn = world->rig.open("bridge.v1", 0);
  FUZZ_CHECK(!world->rig.run(world->dialect.on_open(conn)), "on_open failed");
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;  // the transport's framer skips blank lines
    world->rig.frame(world->dialect, conn, std::string(line));
    FUZZ_CHECK(conn->principal.role == vespid::core::Role::Anonymous, "authenticated");
  }
  FUZZ_CHECK(!wire().closed, "the gateway closed a connection that only sent frames");
  for (const auto& m : wire().sent) check_sent(m);
  world->rig.close(world->dialect, conn);
  FUZZ_CHECK(world->deadlines.pending() == 0, "a closed connection left a deadline behind");
  return 0;
}
