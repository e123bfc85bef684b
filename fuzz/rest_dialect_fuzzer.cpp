// rest.v1 envelopes (core/protocols/rest/rest_dialect.cpp): the input is one envelope
// {method, path, query, headers, body} as a transport hands it to the core. The dialect is the
// real one, with routes shaped like the gateway's (placeholders, GET and POST on one path) whose
// handlers use the real request helpers (rest_auth.hpp: header, json_body, the service token
// check, the access-token check, which meets storage that is down).
//
// Each input is tried twice: as a whole envelope, and as the head, newline and body that a
// transport setting VSP_CONN_REST_RAW_BODY writes.
//
// Invariants: exactly one answer, a JSON object (strict UTF-8) {status, headers, body} whose
// body is a JSON text of an object; an envelope that is not an object with string method and
// path is a 400, and so is a raw-body message without a newline, with a "body" member, or with
// a body that is not UTF-8; a matched route's handler sees the envelope's method (GET for HEAD) and
// path, and one non-empty, percent-decoded captured segment per placeholder.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core_rig.hpp"
#include "json_util.hpp"
#include "protocols/rest/rest_auth.hpp"
#include "protocols/rest/rest_dialect.hpp"
#include "runtime/crypto.hpp"
#include "runtime/json_input.hpp"
#include "storage/repository.hpp"

namespace {

using nlohmann::json;
using vespid::core::RestRequest;
using vespid::core::RestResponse;
using vespid::core::Task;
using vespid::fuzz::wire;

json echo_of(const RestRequest& req) {
  return {{"method", req.method},
          {"path", req.path},
          {"query", req.query},
          {"params", req.params},
          {"routed", true}};
}

struct World {
  vespid::fuzz::Rig rig;
  vespid::repo::Repository repo{rig.storage()};
  vespid::core::RestDialect dialect;
  const std::string service_sha = vespid::crypto::sha256_hex("fuzz-service-token");

  World() {
    dialect.route("GET", "/healthz", [](RestRequest req) -> Task<RestResponse> {
      co_return RestResponse{200, echo_of(req)};
    });
    dialect.route("GET", "/v1/orgs/:orgId/agents", [this](RestRequest req) -> Task<RestResponse> {
      RestRequest copy = req;
      co_await vespid::core::rest_principal(repo, std::move(copy));
      co_return RestResponse{200, echo_of(req)};
    });
    dialect.route("POST", "/v1/orgs/:orgId/agents/pairing-tokens",
                  [](RestRequest req) -> Task<RestResponse> {
                    json body = vespid::core::json_body(req);
                    json out = echo_of(req);
                    out["body"] = body;
                    co_return RestResponse{201, out};
                  });
    dialect.route("GET", "/internal/v1/results/:requestId",
                  [this](RestRequest req) -> Task<RestResponse> {
                    vespid::core::require_service_token(service_sha, req);
                    json out = echo_of(req);
                    out["auth"] = vespid::core::header(req, "authorization");
                    co_return RestResponse{200, out};
                  });
    dialect.route("DELETE", "/v1/agents/:agentId/tags/:tag",
                  [](RestRequest req) -> Task<RestResponse> {
                    co_return RestResponse{204, echo_of(req)};
                  });
  }
};

// One request message on a connection of each kind: without flags the input is a whole
// envelope; with VSP_CONN_REST_RAW_BODY it is an envelope's head, a newline and the body.
void one_request(World& world, const std::string& text, bool raw_body) {
  auto conn = world.rig.open("rest.v1", raw_body ? VSP_CONN_REST_RAW_BODY : 0u);
  FUZZ_CHECK(!world.rig.run(world.dialect.on_open(conn)), "on_open failed");
  FUZZ_CHECK(!world.rig.run(world.dialect.on_message(conn, text)),
             "an exception escaped the REST dialect");
  FUZZ_CHECK(wire().sent.size() == 1, "not exactly one answer to a request");
  const auto res = vespid::fuzz::parse_strict(wire().sent[0]);
  FUZZ_CHECK(res && res->is_object(), "an answer that is not a JSON object");
  FUZZ_CHECK((*res)["status"].is_number_integer(), "an answer without a status");
  FUZZ_CHECK((*res)["headers"].is_object(), "an answer without headers");
  FUZZ_CHECK((*res)["body"].is_string(), "an answer without a body text");
  const auto body = vespid::fuzz::parse_strict((*res)["body"].get<std::string>());
  FUZZ_CHECK(body && body->is_object(), "a body that is not a JSON object");
  const int status = (*res)["status"];

  const std::size_t newline = raw_body ? text.find('\n') : std::string::npos;
  const std::string_view head =
      raw_body ? std::string_view(text).substr(0, newline) : std::string_view(text);
  json env;
  bool well_formed = !raw_body || newline != std::string::npos;
  try {
    env = vespid::core::json_input::parse(head);
    well_formed = well_formed && env.is_object() && env.contains("method") &&
                  env["method"].is_string() && env.contains("path") && env["path"].is_string();
  } catch (const json::exception&) {  // parse_error, or out_of_range for "1e400" (known defect 1)
    well_formed = false;
  }
  if (well_formed && raw_body) {
    // The body is the bytes after the newline, never a member as well, and UTF-8 text.
    well_formed = !env.contains("body") &&
                  vespid::fuzz::utf8_valid(std::string_view(text).substr(newline + 1));
  }
  if (!well_formed) {
    FUZZ_CHECK(status == 400, "a malformed envelope answered with something else than 400");
    world.rig.close(world.dialect, conn);
    return;
  }
  if (body->value("routed", false) == true) {
    const std::string method = env["method"];
    FUZZ_CHECK((*body)["method"] == method, "the handler saw another method");
    FUZZ_CHECK((*body)["path"] == env["path"], "the handler saw another path");
    // Captured segments arrive percent-decoded ("t%2Fx" is "t/x"), so only a path without
    // escapes promises parameters without '/'.
    const bool escaped = env["path"].get_ref<const std::string&>().find('%') != std::string::npos;
    for (const auto& p : (*body)["params"]) {
      const std::string& seg = p.get_ref<const std::string&>();
      FUZZ_CHECK(!seg.empty(), "an empty captured segment");
      FUZZ_CHECK(escaped || seg.find('/') == std::string::npos, "a '/' in a captured segment");
    }
    if (raw_body && body->contains("body")) {
      // The pairing route echoes the JSON body it read: the bytes after the newline.
      const auto sent = vespid::fuzz::parse_strict(std::string_view(text).substr(newline + 1));
      FUZZ_CHECK(!sent || *sent == (*body)["body"],
                 "the handler read another body than the bytes after the newline");
    }
  } else {
    FUZZ_CHECK(status >= 400 && status <= 599, "a refusal with a success status");
    FUZZ_CHECK(body->value("code", json()).is_string(), "a refusal without a code");
  }
  world.rig.close(world.dialect, conn);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World;
  const std::string text(reinterpret_cast<const char*>(data), size);
  one_request(*world, text, false);
  one_request(*world, text, true);
  return 0;
}
