// Internal dispatch through the real gateway, with test-driven node hosts on a real WebSocket
// client: the reference's shapes and codes, selectors, timeouts, at-least-once results that are
// stored once, results that survive a restart, and TLS with a custom CA.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fstream>
#include <thread>

#include "node_host_support.hpp"
#include "process.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Dispatch : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    start_gateway();
    bootstrap_identity();
  }

  // Reads the next execute on `c` and returns it.
  json next_execute(WsClient& c) {
    auto m = c.read_type("execute", 5s);
    EXPECT_TRUE(m.has_value()) << "no execute arrived";
    return m ? *m : json();
  }

  json finish(WsClient& c, const std::string& request_id, const json& output) {
    c.send({{"type", "execute_result"},
            {"requestId", request_id},
            {"status", "succeeded"},
            {"output", output}});
    auto ack = c.read_type("execute_ack", 5s);
    EXPECT_TRUE(ack.has_value()) << "no execute_ack for " << request_id;
    return ack ? *ack : json();
  }
};

TEST_F(Dispatch, DispatchExecuteEventsResultAndCache) {
  PairedAgent a = pair("host-a");
  auto c = connect_agent(a);
  json body = dispatch_body("run-1", 1, {{"secret", "s3cr3t"}});
  HttpReply d = internal("POST", "/internal/v1/dispatch-async", body);
  ASSERT_EQ(d.status, 201) << d.raw_body;
  EXPECT_EQ(d.body, json({{"requestId", request_id("run-1")}, {"dispatched", true}}));

  json ex = next_execute(*c);
  EXPECT_EQ(ex["requestId"], request_id("run-1"));
  EXPECT_EQ(ex["organizationId"], org_id_);
  EXPECT_EQ(ex["userId"], test_uuid("user-1"));
  EXPECT_EQ(ex["kind"], "agent.execute");
  EXPECT_EQ(ex["payload"]["message"], "hello");
  EXPECT_EQ(ex["secret"], "s3cr3t");

  HttpReply pending = internal("GET", "/internal/v1/results/" + request_id("run-1"));
  EXPECT_EQ(pending.status, 404);
  EXPECT_EQ(pending.body["code"], "RESULT_NOT_READY");

  c->send({{"type", "execute_received"}, {"requestId", request_id("run-1")}});
  for (int seq = 1; seq <= 3; ++seq) {
    c->send({{"type", "execute_event"},
             {"requestId", request_id("run-1")},
             {"event",
              {{"seq", seq}, {"ts", 1}, {"kind", "agent.assistant_delta"}, {"level", "info"}}}});
  }
  json ack = finish(*c, request_id("run-1"), {{"text", "hi there"}});
  EXPECT_EQ(ack["requestId"], request_id("run-1"));

  HttpReply r = internal("GET", "/internal/v1/results/" + request_id("run-1"));
  ASSERT_EQ(r.status, 200) << r.raw_body;
  EXPECT_EQ(r.body, json({{"status", "succeeded"}, {"output", {{"text", "hi there"}}}}));

  HttpReply cached = internal("POST", "/internal/v1/dispatch-async", body);
  EXPECT_EQ(cached.status, 200) << cached.raw_body;
  EXPECT_EQ(cached.body["cached"], true);
  EXPECT_FALSE(c->read_type("execute", 300ms).has_value()) << "a cached result is not re-run";

  // The secret was forwarded, never stored or logged: it is nowhere in the state directory
  // (database, WAL, the gateway's log).
  ASSERT_EQ(gw_.terminate(), 0);
  CommandResult grep = run_command({"grep", "-r", "-l", "s3cr3t", dir_.file("state")});
  EXPECT_EQ(grep.exit_code, 1) << "the dispatch secret was found at rest in: " << grep.out;
}

// The payload reaches the host as the text the caller wrote (its members' order, spacing and
// escapes), not re-written; a body the typed reading does not vouch for (a repeated key) is read
// as a DOM and dispatched all the same, the last of the two keys winning.
TEST_F(Dispatch, ThePayloadReachesTheHostAsItsTextWasSent) {
  PairedAgent a = pair("host-a");
  auto c = connect_agent(a);
  json body = dispatch_body("run-text", 1);
  body.erase("payload");
  const std::string payload = R"({ "zeta" : [1, 2.50, "caf\u00e9"],  "alpha":{"k":null} })";
  std::string text = body.dump();
  text.insert(text.size() - 1, R"(,"payload":)" + payload);
  Headers h{{"x-gateway-token", kServiceToken}, {"content-type", "application/json"}};
  HttpReply d = http_request(api(), "POST", "/internal/v1/dispatch-async", h, text);
  ASSERT_EQ(d.status, 201) << d.raw_body;
  auto raw = c->read_message(5s);
  ASSERT_TRUE(raw.has_value()) << "no execute arrived";
  EXPECT_NE(raw->data.find(R"("payload":)" + payload + ","), std::string::npos) << raw->data;
  json ex = json::parse(raw->data);
  EXPECT_EQ(ex["type"], "execute");
  EXPECT_EQ(ex["payload"], json::parse(payload));

  json again = dispatch_body("run-dup", 1);
  std::string dup = again.dump();
  dup.insert(1, R"("nodeId":"first",)");
  HttpReply d2 = http_request(api(), "POST", "/internal/v1/dispatch-async", h, dup);
  ASSERT_EQ(d2.status, 201) << d2.raw_body;
  EXPECT_EQ(d2.body["requestId"], request_id("run-dup")) << "the last nodeId wins";
  json ex2 = next_execute(*c);
  EXPECT_EQ(ex2["requestId"], d2.body["requestId"]);
  EXPECT_EQ(ex2["payload"], again["payload"]);
}

// The host's result is stored from the text it sent (its output's spacing and escapes), read
// back as the same JSON, and acknowledged; a result the typed reading leaves to the DOM
// (an error that is an object, a repeated key) is stored all the same, as before.
TEST_F(Dispatch, TheHostsResultIsStoredFromItsTextAndReadBackTheSame) {
  PairedAgent a = pair("host-a");
  auto c = connect_agent(a);
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("run-out")).status, 201);
  const std::string id = next_execute(*c)["requestId"];
  const std::string output =
      R"({ "zeta" : [1, 2.50, "caf\u00e9", "a\"q\""],  "alpha":{"k":null} })";
  c->send_text(R"({"type":"execute_result","requestId":")" + id +
               R"(","status":"succeeded","output":)" + output + "}");
  auto ack = c->read_type("execute_ack", 5s);
  ASSERT_TRUE(ack.has_value()) << gw_.log_text();
  EXPECT_EQ(*ack, json({{"type", "execute_ack"}, {"requestId", id}}));
  HttpReply r = internal("GET", "/internal/v1/results/" + id);
  ASSERT_EQ(r.status, 200) << r.raw_body;
  EXPECT_EQ(r.body, json({{"status", "succeeded"}, {"output", json::parse(output)}}));

  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("run-obj")).status, 201);
  const std::string id2 = next_execute(*c)["requestId"];
  c->send_text(R"({"type":"execute_result","requestId":")" + id2 +
               R"(","status":"succeeded","status":"failed","error":{"code":7}})");
  ASSERT_TRUE(c->read_type("execute_ack", 5s).has_value()) << gw_.log_text();
  HttpReply r2 = internal("GET", "/internal/v1/results/" + id2);
  ASSERT_EQ(r2.status, 200) << r2.raw_body;
  EXPECT_EQ(r2.body, json({{"status", "failed"}, {"error", R"({"code":7})"}})) << r2.raw_body;
}

TEST_F(Dispatch, ServiceTokenIsRequiredAndChecked) {
  HttpReply none = internal("GET", "/internal/v1/results/abcdef", nullptr, "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body["code"], "UNAUTHORIZED");
  HttpReply wrong = internal("POST", "/internal/v1/dispatch-async", dispatch_body("r"), "nope");
  EXPECT_EQ(wrong.status, 401);
  HttpReply access_token_is_not_enough =
      rest("POST", "/internal/v1/dispatch-async", admin_token_, dispatch_body("r"));
  EXPECT_EQ(access_token_is_not_enough.status, 401);
}

TEST_F(Dispatch, BadBodiesAre400WithTheField) {
  HttpReply r = internal("POST", "/internal/v1/dispatch-async", dispatch_body("r", 0));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["code"], "BAD_REQUEST");
  EXPECT_EQ(r.body["details"]["field"], "attemptCount");
  json no_kind = dispatch_body("r");
  no_kind.erase("kind");
  EXPECT_EQ(internal("POST", "/internal/v1/dispatch-async", no_kind).body["details"]["field"],
            "kind");
  json connector = dispatch_body("r", 1, {{"kind", "connector.action"}, {"payload", {{"x", 1}}}});
  EXPECT_EQ(internal("POST", "/internal/v1/dispatch-async", connector).body["details"]["field"],
            "payload");
  json slow = dispatch_body("r", 1, {{"timeoutMs", 10}});
  EXPECT_EQ(internal("POST", "/internal/v1/dispatch-async", slow).status, 400);
}

TEST_F(Dispatch, NoAgentIs503AndSelectorsUseStoredTags) {
  HttpReply none = internal("POST", "/internal/v1/dispatch-async", dispatch_body("run-n"));
  EXPECT_EQ(none.status, 503) << none.raw_body;
  EXPECT_EQ(none.body["code"], "NO_AGENT_AVAILABLE");

  PairedAgent gpu = pair("gpu-host", {"gpu"});
  PairedAgent cpu = pair("cpu-host", {"cpu", "group:builders"});
  // What a host says about itself is a hint: claiming "gpu" in hello does not make it one.
  auto cg = connect_agent(gpu);
  auto cc = connect_agent(cpu, {{"tags", {"gpu"}}});

  HttpReply nomatch = internal("POST", "/internal/v1/dispatch-async",
                               dispatch_body("run-t", 1, {{"selectorTag", "arm"}}));
  EXPECT_EQ(nomatch.status, 503);
  EXPECT_NE(nomatch.body["message"].get<std::string>().find("selector"), std::string::npos);

  for (int i = 1; i <= 3; ++i) {
    HttpReply d = internal("POST", "/internal/v1/dispatch-async",
                           dispatch_body("run-g", i, {{"executorSelector", {{"tag", "gpu"}}}}));
    ASSERT_EQ(d.status, 201) << d.raw_body;
    EXPECT_EQ(next_execute(*cg)["requestId"], request_id("run-g", i));
  }
  EXPECT_FALSE(cc->read_type("execute", 300ms).has_value()) << "the cpu host got gpu work";

  HttpReply group = internal("POST", "/internal/v1/dispatch-async",
                             dispatch_body("run-b", 1, {{"selectorGroup", "builders"}}));
  ASSERT_EQ(group.status, 201);
  EXPECT_EQ(next_execute(*cc)["requestId"], request_id("run-b"));
  HttpReply by_id = internal("POST", "/internal/v1/dispatch-async",
                             dispatch_body("run-i", 1, {{"selectorAgentId", cpu.id}}));
  ASSERT_EQ(by_id.status, 201);
  EXPECT_EQ(next_execute(*cc)["requestId"], request_id("run-i"));

  // Re-tagging takes effect at once for connected hosts.
  ASSERT_EQ(rest("PUT", "/v1/orgs/" + org_id_ + "/agents/" + cpu.id + "/tags", admin_token_,
                 {{"tags", {"arm"}}})
                .status,
            200);
  HttpReply arm = internal("POST", "/internal/v1/dispatch-async",
                           dispatch_body("run-a", 1, {{"selectorTag", "arm"}}));
  ASSERT_EQ(arm.status, 201);
  EXPECT_EQ(next_execute(*cc)["requestId"], request_id("run-a"));

  // Another org's work never reaches these hosts.
  json foreign = dispatch_body("run-f");
  foreign["organizationId"] = other_org_id_;
  EXPECT_EQ(internal("POST", "/internal/v1/dispatch-async", foreign).status, 503);
}

TEST_F(Dispatch, LeastInFlightFirstAndMaxInFlightRespected) {
  PairedAgent a = pair("a"), b = pair("b");
  auto ca = connect_agent(a, {{"maxInFlight", 1}});
  auto cb = connect_agent(b, {{"maxInFlight", 1}});
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("x", 1)).status, 201);
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("x", 2)).status, 201);
  // One each: the second went to the host with nothing in flight.
  json ea = next_execute(*ca), eb = next_execute(*cb);
  EXPECT_NE(ea["requestId"], eb["requestId"]);
  HttpReply full = internal("POST", "/internal/v1/dispatch-async", dispatch_body("x", 3));
  EXPECT_EQ(full.status, 503);
  EXPECT_EQ(full.body["details"]["reason"], "every matching node host is at its maxInFlight");
  finish(*ca, ea["requestId"], {{"n", 1}});
  HttpReply freed = internal("POST", "/internal/v1/dispatch-async", dispatch_body("x", 3));
  EXPECT_EQ(freed.status, 201) << "a finished result frees the slot";
  EXPECT_EQ(next_execute(*ca)["requestId"], request_id("x", 3));
}

TEST_F(Dispatch, SilenceBecomesNodeExecutionTimeoutAndALateResultStillCounts) {
  PairedAgent a = pair("slow");
  auto c = connect_agent(a);
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async",
                     dispatch_body("run-s", 1, {{"timeoutMs", 1000}}))
                .status,
            201);
  json ex = next_execute(*c);
  HttpReply r;
  for (int i = 0; i < 60; ++i) {
    r = internal("GET", "/internal/v1/results/" + request_id("run-s"));
    if (r.status == 200) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(r.status, 200) << r.raw_body;
  EXPECT_EQ(r.body, json({{"status", "failed"}, {"error", "NODE_EXECUTION_TIMEOUT"}}));
  // The host's real answer arrives later: it is acknowledged and replaces the timeout.
  finish(*c, ex["requestId"], {{"late", true}});
  HttpReply late = internal("GET", "/internal/v1/results/" + request_id("run-s"));
  EXPECT_EQ(late.body["status"], "succeeded");
  EXPECT_EQ(late.body["output"]["late"], true);
}

TEST_F(Dispatch, AReconnectingHostsResentResultIsStoredOnce) {
  PairedAgent a = pair("flaky");
  auto c = connect_agent(a);
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("run-r")).status, 201);
  json ex = next_execute(*c);
  c->close();  // gone before answering
  ASSERT_TRUE(wait_agent_status(a.id, "offline"));

  auto again = connect_agent(a);
  json first = finish(*again, ex["requestId"], {{"answer", 1}});
  EXPECT_EQ(first["requestId"], ex["requestId"]);
  // The ack was "lost": the host sends the same result again (and a different one, to prove
  // nothing is overwritten). Each is acknowledged; the stored result stays the first.
  finish(*again, ex["requestId"], {{"answer", 1}});
  finish(*again, ex["requestId"], {{"answer", 2}});
  HttpReply r = internal("GET", "/internal/v1/results/" + ex["requestId"].get<std::string>());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["output"]["answer"], 1);

  // A result for a request this gateway never dispatched is acknowledged and not stored.
  finish(*again, "made-up:node:1", {{"forged", true}});
  EXPECT_EQ(internal("GET", "/internal/v1/results/made-up:node:1").status, 404);
}

TEST_F(Dispatch, OnlyTheChosenHostMayAnswerAndRequestIdsDoNotCrossOrgs) {
  PairedAgent a = pair("chosen"), b = pair("bystander");
  auto ca = connect_agent(a);
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async",
                     dispatch_body("own", 1, {{"selectorAgentId", a.id}}))
                .status,
            201);
  json ex = next_execute(*ca);
  auto cb = connect_agent(b);
  cb->send({{"type", "execute_result"},
            {"requestId", ex["requestId"]},
            {"status", "succeeded"},
            {"output", {{"planted", true}}}});
  auto refused = cb->read_type("error");
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ((*refused)["code"], "FORBIDDEN");
  EXPECT_EQ(internal("GET", "/internal/v1/results/" + request_id("own")).status, 404);
  finish(*ca, ex["requestId"], {{"real", true}});
  EXPECT_EQ(internal("GET", "/internal/v1/results/" + request_id("own")).body["output"]["real"],
            true);

  // The same requestId from another org is a conflict, not that org's cached result.
  json foreign = dispatch_body("own");
  foreign["organizationId"] = other_org_id_;
  HttpReply clash = internal("POST", "/internal/v1/dispatch-async", foreign);
  EXPECT_EQ(clash.status, 409) << clash.raw_body;
  EXPECT_EQ(clash.body["code"], "CONFLICT");
}

TEST_F(Dispatch, OutstandingDispatchesAndResultsSurviveARestart) {
  PairedAgent a = pair("steady");
  auto c = connect_agent(a);
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("done")).status, 201);
  finish(*c, next_execute(*c)["requestId"], {{"v", 1}});
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("open")).status, 201);
  json open = next_execute(*c);
  c.reset();

  restart_gateway();
  HttpReply done = internal("GET", "/internal/v1/results/" + request_id("done"));
  ASSERT_EQ(done.status, 200) << "results are durable";
  EXPECT_EQ(done.body["output"]["v"], 1);

  // The host reconnects and resends the result of the dispatch made before the restart.
  auto back = connect_agent(a);
  finish(*back, open["requestId"], {{"v", 2}});
  HttpReply r = internal("GET", "/internal/v1/results/" + request_id("open"));
  ASSERT_EQ(r.status, 200) << r.raw_body;
  EXPECT_EQ(r.body["output"]["v"], 2);
  // And its slot was freed: the same host takes new work.
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("after")).status, 201);
}

// A dispatch's record reaches the store before its execute goes out, and its sync runs while the
// host works (storage.md, "Deferred syncs"): a gateway killed (SIGKILL, nothing flushed) after
// the host got the execute still knows the dispatch when it comes back, and stores the result
// the host resends. The 201 waited for the record's sync, so the kill lands after it; the window
// before the sync is the storage layer's, killed in storage.SqliteCrash.
// AppliedButUnsyncedCommitsSurviveSigkill.
TEST_F(Dispatch, AnOpenDispatchSurvivesAKilledGateway) {
  PairedAgent a = pair("steady");
  auto c = connect_agent(a);
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("killed")).status, 201);
  json open = next_execute(*c);
  ASSERT_EQ(open["requestId"], request_id("killed"));
  c.reset();

  crash_and_restart_gateway();
  // Known and still open: a repeat of the same attempt is the dispatch in flight, not a new one.
  HttpReply again = internal("POST", "/internal/v1/dispatch-async", dispatch_body("killed"));
  EXPECT_EQ(again.status, 201) << again.raw_body;
  EXPECT_EQ(again.body.value("alreadyInFlight", false), true) << again.raw_body;
  auto back = connect_agent(a);
  finish(*back, open["requestId"], {{"v", 3}});
  HttpReply r = internal("GET", "/internal/v1/results/" + request_id("killed"));
  ASSERT_EQ(r.status, 200) << r.raw_body;
  EXPECT_EQ(r.body["output"]["v"], 3);
}

// The gateway does not read for a stored result before dispatching; the dispatch record's commit
// checks for one. These are the answers that check must not lose: a stored result with no host
// connected (no host to pick), and an expired result not swept yet (it gives way to a new run).
TEST_F(Dispatch, AStoredResultAnswersWithNoHostAndAnExpiredOneGivesWay) {
  PairedAgent a = pair("once");
  auto c = connect_agent(a);
  json body = dispatch_body("again");
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", body).status, 201);
  finish(*c, next_execute(*c)["requestId"], {{"v", 1}});
  c.reset();
  // Until the gateway has seen the host leave, a dispatch could still pick it.
  HttpReply none;
  for (int i = 0; i < 100; ++i) {
    none = internal("POST", "/internal/v1/dispatch-async",
                    dispatch_body("other-" + std::to_string(i)));
    if (none.status == 503) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(none.status, 503) << none.raw_body;
  EXPECT_EQ(none.body["code"], "NO_AGENT_AVAILABLE");

  HttpReply cached = internal("POST", "/internal/v1/dispatch-async", body);
  EXPECT_EQ(cached.status, 200) << cached.raw_body;
  EXPECT_EQ(cached.body["cached"], true);

  // The result expires while the gateway is stopped (its expiry moved into the past in the real
  // SQLite file); the sweep has not run yet when the same attempt is posted again.
  ASSERT_EQ(gw_.terminate(), 0) << gw_.log_text();
  const std::string key = "result/" + request_id("again");
  CommandResult edit = run_command(
      {"sqlite3", dir_.file("state") + "/vespid.db",
       "UPDATE kv SET value = CAST(json_set(CAST(value AS TEXT), '$.expiresAtMs', 1) AS BLOB) "
       "WHERE key = CAST('" +
           key + "' AS BLOB); SELECT changes();"});
  ASSERT_EQ(edit.exit_code, 0) << edit.out;
  ASSERT_EQ(edit.out, "1\n") << "the stored result was not found under " << key;
  gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")}, env_);
  ASSERT_TRUE(gw_.wait_ready());

  HttpReply gone = internal("GET", "/internal/v1/results/" + request_id("again"));
  EXPECT_EQ(gone.status, 404) << "an expired result is not answered: " << gone.raw_body;
  auto back = connect_agent(a);
  HttpReply rerun = internal("POST", "/internal/v1/dispatch-async", body);
  ASSERT_EQ(rerun.status, 201) << rerun.raw_body;
  EXPECT_EQ(rerun.body["dispatched"], true);
  finish(*back, next_execute(*back)["requestId"], {{"v", 2}});
  HttpReply r = internal("GET", "/internal/v1/results/" + request_id("again"));
  ASSERT_EQ(r.status, 200) << r.raw_body;
  EXPECT_EQ(r.body["output"]["v"], 2) << "the new run's result replaced the expired one";
}

class InternalRoutesOff : public NodeHostGateway {};

TEST_F(InternalRoutesOff, NoServiceTokenMeansNoInternalRoutes) {
  start_gateway({});
  HttpReply r = internal("POST", "/internal/v1/dispatch-async", dispatch_body("r"), "anything");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body["code"], "INTERNAL_ROUTES_DISABLED");
  EXPECT_NE(gw_.log_text().find("internal.token is not set"), std::string::npos);
}

TEST_F(InternalRoutesOff, AShortServiceTokenIsAConfigError) {
  std::ofstream(dir_.file("cfg.json")) << config().dump();
  gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")},
            {{"VESPID_INTERNAL_TOKEN", "short"}});
  EXPECT_EQ(gw_.wait_exit(20s), 2) << gw_.log_text();
  EXPECT_NE(gw_.log_text().find("internal.token is too short"), std::string::npos);
}

// TLS with a CA of the test's own: the client verifies the gateway's certificate against it.
class TlsDispatch : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    std::string d = dir_.path();
    ASSERT_TRUE(make_test_ca(d));
    ws_config_extra_ = {{"tls", true}, {"cert_file", d + "/gw.pem"}, {"key_file", d + "/gw.key"}};
    start_gateway();
    bootstrap_identity();
  }
  WebTarget wss(bool with_ca) const {
    WebTarget t = ws();
    t.tls = true;
    t.server_name = "localhost";
    if (with_ca) t.ca_file = dir_.path() + "/ca.pem";
    return t;
  }
};

TEST_F(TlsDispatch, WssWithACustomCaCarriesTheWholeExchange) {
  PairedAgent a = pair("tls-host");
  EXPECT_EQ(a.ws_url, "wss://127.0.0.1:" + std::to_string(ws_port_) + "/ws");

  WsClient unverified(wss(false));
  EXPECT_EQ(unverified.connect("/ws", {{"Authorization", "Bearer " + a.token}}), 0)
      << "a client that does not trust the CA must fail verification";

  WsClient c(wss(true));
  json refusal;
  ASSERT_EQ(c.connect("/ws", {{"Authorization", "Bearer " + a.token}}, &refusal), 101)
      << refusal.dump() << c.close_reason();
  c.send({{"type", "hello"}, {"agentVersion", "1"}, {"name", "tls-host"}});
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("tls")).status, 201);
  auto ex = c.read_type("execute");
  ASSERT_TRUE(ex.has_value());
  c.send({{"type", "execute_result"},
          {"requestId", (*ex)["requestId"]},
          {"status", "failed"},
          {"error", "boom"}});
  ASSERT_TRUE(c.read_type("execute_ack").has_value());
  HttpReply r = internal("GET", "/internal/v1/results/" + request_id("tls"));
  EXPECT_EQ(r.body, json({{"status", "failed"}, {"error", "boom"}}));
}

// A worker that pipelines its synchronous dispatches on one keep-alive connection: both reach
// the node host before either is answered (the gateway reads ahead while the first waits), and
// the answers come back in request order although the host finishes the second first.
TEST_F(Dispatch, PipelinedDispatchesOnOneConnectionRunTogetherAndAnswerInOrder) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  PairedAgent a = pair("pipelined-host");
  auto c = connect_agent(a, {{"maxInFlight", 4}});

  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(api_port_)});
  timeval tv{10, 0};  // a read that would wait forever fails the test instead
  ASSERT_EQ(::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  std::string requests;
  for (const char* run : {"pipe-1", "pipe-2"}) {
    const std::string body = dispatch_body(run).dump();
    requests +=
        "POST /internal/v1/dispatch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nx-gateway-token: " +
        std::string(kServiceToken) + "\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
  }
  asio::write(sock, asio::buffer(requests));

  json first = next_execute(*c), second = next_execute(*c);
  ASSERT_EQ(first["requestId"], request_id("pipe-1"));
  ASSERT_EQ(second["requestId"], request_id("pipe-2"))
      << "the second pipelined dispatch did not reach the host while the first was unanswered";
  finish(*c, request_id("pipe-2"), {{"n", 2}});
  finish(*c, request_id("pipe-1"), {{"n", 1}});

  boost::beast::flat_buffer buf;
  for (int n : {1, 2}) {
    http::response<http::string_body> res;
    boost::system::error_code ec;
    http::read(sock, buf, res, ec);
    ASSERT_FALSE(ec) << "answer " << n << ": " << ec.message();
    ASSERT_EQ(res.result_int(), 200u) << res.body();
    EXPECT_EQ(json::parse(res.body()), json({{"status", "succeeded"}, {"output", {{"n", n}}}}))
        << "answer " << n << " is not the answer to request " << n;
    EXPECT_TRUE(res.keep_alive());
  }
}

}  // namespace
}  // namespace vespid::test

namespace vespid::test {
namespace {

// POST /internal/v1/dispatch, the reference's synchronous form: the answer is the result.
TEST_F(Dispatch, SynchronousDispatchAnswersWithTheResultOrItsTimeout) {
  HttpReply none = internal("POST", "/internal/v1/dispatch", dispatch_body("run-s0"));
  EXPECT_EQ(none.status, 503) << none.raw_body;
  EXPECT_EQ(none.body["code"], "NO_AGENT_AVAILABLE");

  PairedAgent a = pair("sync-host");
  auto c = connect_agent(a);
  HttpReply answered;
  std::thread caller(
      [&] { answered = internal("POST", "/internal/v1/dispatch", dispatch_body("run-s1")); });
  auto ex = c->read_type("execute", 5s);
  ASSERT_TRUE(ex);
  EXPECT_EQ((*ex)["requestId"], request_id("run-s1"));
  // Not answered yet: the caller is still waiting.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(answered.status, 0);
  finish(*c, request_id("run-s1"), {{"text", "done"}});
  caller.join();
  ASSERT_EQ(answered.status, 200) << answered.raw_body;
  EXPECT_EQ(answered.body, json({{"status", "succeeded"}, {"output", {{"text", "done"}}}}));

  // The same attempt again is its stored result, without a second execute.
  HttpReply again = internal("POST", "/internal/v1/dispatch", dispatch_body("run-s1"));
  ASSERT_EQ(again.status, 200) << again.raw_body;
  EXPECT_EQ(again.body["status"], "succeeded");
  EXPECT_FALSE(c->read_type("execute", 300ms));

  // A host that never answers: the dispatch's own timeout, as a result, still 200.
  HttpReply slow =
      internal("POST", "/internal/v1/dispatch", dispatch_body("run-s2", 1, {{"timeoutMs", 1000}}));
  ASSERT_EQ(slow.status, 200) << slow.raw_body;
  EXPECT_EQ(slow.body, json({{"status", "failed"}, {"error", "NODE_EXECUTION_TIMEOUT"}}));

  HttpReply wrong = internal("POST", "/internal/v1/dispatch", dispatch_body("r"), "nope");
  EXPECT_EQ(wrong.status, 401);
}

}  // namespace
}  // namespace vespid::test
