// GET /metrics through the real gateway (docs/metrics.md): the exposition parses strictly; a
// node-host dispatch, a bridge invoke, a session turn and a pairing move their counters by
// exactly what they did and are counted in the histograms; /metrics is served on the api
// listener only; without metrics.token only loopback peers are served, with it the token is
// required from everyone; and what is not a GET is refused in the REST API's error form.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <thread>

#include "build_paths.hpp"
#include "node_host_support.hpp"
#include "operator_client.hpp"
#include "process.hpp"
#include "prom_text.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kMetricsToken = "metrics-token-0123456789abcdef";

class Metrics : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    bridge_port_ = pick_free_port();
    web_port_ = pick_free_port();
    // The default layout in miniature: /metrics on the api listener, not on ws or web.
    const json api_routes = json::array({{{"prefix", "/v1/"}, {"dialect", "rest.v1"}},
                                         {{"prefix", "/internal/v1/"}, {"dialect", "rest.v1"}},
                                         {{"path", "/healthz"}, {"dialect", "rest.v1"}},
                                         {{"path", "/metrics"}, {"dialect", "rest.v1"}}});
    const json ws_routes =
        json::array({{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}},
                     {{"path", "/healthz"}, {"dialect", "rest.v1"}}});
    const json web_routes = json::array({{{"prefix", "/v1/"}, {"dialect", "rest.v1"}},
                                         {{"path", "/healthz"}, {"dialect", "rest.v1"}}});
    config_patch_ = {
        {"plugins",
         {{"instances",
           json::array(
               {{{"name", "storage"}, {"plugin", "sqlite"}},
                {{"name", "local"}, {"plugin", "unix"}},
                {{"name", "bridge"}, {"plugin", "bridge"}, {"config", {{"port", bridge_port_}}}},
                {{"name", "api"},
                 {"plugin", "ws"},
                 {"config", {{"port", api_port_}, {"routes", api_routes}}}},
                {{"name", "ws"},
                 {"plugin", "ws"},
                 {"config", {{"port", ws_port_}, {"routes", ws_routes}}}},
                {{"name", "web"},
                 {"plugin", "ws"},
                 {"config", {{"port", web_port_}, {"routes", web_routes}}}}})}}}};
  }

  HttpReply get(int port, const std::string& path, const Headers& h = {},
                const std::string& method = "GET") {
    WebTarget t;
    t.port = port;
    return http_request(t, method, path, h, "");
  }

  // A scrape that must succeed and parse strictly.
  PromText scrape(const Headers& h = {}) {
    HttpReply r = get(api_port_, "/metrics", h);
    EXPECT_EQ(r.status, 200) << r.raw_body << r.error;
    EXPECT_EQ(r.header_values("content-type"),
              std::vector<std::string>{"text/plain; version=0.0.4; charset=utf-8"});
    PromText p = parse_prom_text(r.raw_body);
    std::string errors;
    for (const auto& e : p.errors) errors += e + "\n";
    EXPECT_TRUE(p.errors.empty()) << errors;
    return p;
  }

  int bridge_port_ = 0, web_port_ = 0;
};

double delta(const PromText& before, const PromText& after, const std::string& name,
             const std::map<std::string, std::string>& labels = {}) {
  return after.value(name, labels) - before.value(name, labels);
}

TEST_F(Metrics, CountersMoveByWhatTheGatewayDid) {
  start_gateway();
  bootstrap_identity();
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  const PromText before = scrape();
  EXPECT_EQ(before.value("vespid_build_info"), 1);
  EXPECT_EQ(before.value("vespid_plugin_up", {{"instance", "api"}, {"plugin", "ws"}}), 1);
  EXPECT_EQ(before.value("vespid_plugin_up", {{"instance", "storage"}, {"kind", "storage"}}), 1);
  EXPECT_EQ(before.value("vespid_bus_up"), 1);
  EXPECT_GT(before.value("vespid_uptime_seconds"), 0);

  // A pairing request, approved: a bridge node, then one invoke it answers.
  BridgeClient node = paired_bridge_node(admin, bridge_port_, "kiosk",
                                         {{"commands", json::array({"canvas.snapshot"})}});
  std::thread answer([&] {
    auto inv = node.read_type("invoke", 10s);
    ASSERT_TRUE(inv);
    node.send({{"type", "invoke-res"}, {"id", (*inv)["id"]}, {"ok", true}, {"payloadJSON", "{}"}});
  });
  json invoked = admin.call("nodes.invoke", {{"node", "kiosk"}, {"command", "canvas.snapshot"}});
  answer.join();
  // A command the node never declared is refused before anything is sent.
  EXPECT_THROW(admin.call("nodes.invoke", {{"node", "kiosk"}, {"command", "sms.send"}}),
               std::exception);

  // A node host takes one dispatch (pairing token minted and used) and a session turn.
  PairedAgent a = pair("host-a");
  auto host = connect_agent(a);
  HttpReply d = internal("POST", "/internal/v1/dispatch-async", dispatch_body("run-1"));
  ASSERT_EQ(d.status, 201) << d.raw_body;
  auto ex = host->read_type("execute", 5s);
  ASSERT_TRUE(ex);
  host->send({{"type", "execute_result"},
              {"requestId", (*ex)["requestId"]},
              {"status", "succeeded"},
              {"output", {{"text", "done"}}}});
  ASSERT_TRUE(host->read_type("execute_ack", 5s));
  // Its result, just stored here, is read from memory; one this instance never stored, from
  // storage.
  const PromText before_reads = scrape();
  HttpReply result =
      internal("GET", "/internal/v1/results/" + (*ex)["requestId"].get<std::string>());
  ASSERT_EQ(result.status, 200) << result.raw_body;
  EXPECT_EQ(result.body, json({{"status", "succeeded"}, {"output", {{"text", "done"}}}}));
  EXPECT_EQ(internal("GET", "/internal/v1/results/never-dispatched:node:1").status, 404);
  const PromText after_reads = scrape();
  EXPECT_EQ(
      delta(before_reads, after_reads, "vespid_dispatch_result_reads_total", {{"from", "memory"}}),
      1);
  EXPECT_GE(
      delta(before_reads, after_reads, "vespid_dispatch_result_reads_total", {{"from", "storage"}}),
      1);
  // A worker's long-poll of a dispatch in flight here waits without reading, and is answered
  // from memory when the result is stored: no read reaches storage.
  HttpReply d2 = internal("POST", "/internal/v1/dispatch-async", dispatch_body("run-poll"));
  ASSERT_EQ(d2.status, 201) << d2.raw_body;
  auto ex2 = host->read_type("execute", 5s);
  ASSERT_TRUE(ex2);
  const std::string polled = (*ex2)["requestId"];
  auto poll = std::async(std::launch::async, [&] {
    return internal("GET", "/internal/v1/results/" + polled + "?waitMs=10000");
  });
  EXPECT_EQ(poll.wait_for(300ms), std::future_status::timeout) << "answered before the result";
  host->send({{"type", "execute_result"},
              {"requestId", polled},
              {"status", "succeeded"},
              {"output", {{"text", "polled"}}}});
  ASSERT_TRUE(host->read_type("execute_ack", 5s));
  HttpReply polled_result = poll.get();
  ASSERT_EQ(polled_result.status, 200) << polled_result.raw_body;
  EXPECT_EQ(polled_result.body["output"]["text"], "polled");
  const PromText after_poll = scrape();
  EXPECT_EQ(
      delta(after_reads, after_poll, "vespid_dispatch_result_reads_total", {{"from", "memory"}}),
      1);
  EXPECT_EQ(
      delta(after_reads, after_poll, "vespid_dispatch_result_reads_total", {{"from", "storage"}}),
      0);

  HttpReply s = rest("POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                     {{"title", "t"}, {"engine", "vespid.echo.v1"}, {"model", "none"}});
  ASSERT_EQ(s.status, 201) << s.raw_body;
  const std::string sid = s.body["session"].value("id", "");
  HttpReply m = rest("POST", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/messages",
                     member_token_, {{"message", "hi"}});
  ASSERT_TRUE(m.status == 200 || m.status == 201 || m.status == 202) << m.raw_body;
  auto turn = host->read_type("execute", 5s);
  ASSERT_TRUE(turn);
  EXPECT_EQ((*turn)["kind"], "agent.run");
  host->send({{"type", "execute_result"},
              {"requestId", (*turn)["requestId"]},
              {"status", "succeeded"},
              {"output", {{"text", "hello"}}}});
  ASSERT_TRUE(host->read_type("execute_ack", 5s));
  // The turn's agent_final is stored after the ack: wait for it.
  for (int i = 0; i < 100; ++i) {
    if (scrape().value("vespid_session_turns_total", {{"outcome", "succeeded"}}) -
            before.value("vespid_session_turns_total", {{"outcome", "succeeded"}}) >=
        1)
      break;
    std::this_thread::sleep_for(20ms);
  }
  HttpReply events =
      rest("GET", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/events", member_token_);
  bool final_stored = false;
  for (int i = 0; i < 100 && !final_stored; ++i) {
    events = rest("GET", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/events", member_token_);
    for (const auto& e : events.body.value("events", json::array()))
      if (e.value("eventType", "") == "agent_final") final_stored = true;
    if (!final_stored) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(final_stored) << events.raw_body;

  const PromText after = scrape();
  // Invokes: one ok (timed), one refused (not sent, not timed).
  EXPECT_EQ(delta(before, after, "vespid_invokes_total", {{"outcome", "ok"}}), 1);
  EXPECT_EQ(delta(before, after, "vespid_invokes_total", {{"outcome", "refused"}}), 1);
  EXPECT_EQ(delta(before, after, "vespid_invoke_duration_seconds_count"), 1);
  EXPECT_GT(delta(before, after, "vespid_invoke_duration_seconds_sum"), 0);
  EXPECT_EQ(delta(before, after, "vespid_invoke_duration_seconds_bucket", {{"le", "+Inf"}}), 1);
  // Dispatches: the two internal ones and the session's turn, all ok and timed.
  EXPECT_EQ(delta(before, after, "vespid_dispatches_total", {{"outcome", "ok"}}), 3);
  EXPECT_EQ(delta(before, after, "vespid_dispatch_duration_seconds_count"), 3);
  EXPECT_EQ(delta(before, after, "vespid_dispatch_outstanding"), 0);
  // The turn and its events: session_created, user_message, agent_selected, agent_final.
  EXPECT_EQ(delta(before, after, "vespid_session_turns_total", {{"outcome", "succeeded"}}), 1);
  EXPECT_EQ(delta(before, after, "vespid_session_events_total", {{"type", "session_created"}}), 1);
  EXPECT_EQ(delta(before, after, "vespid_session_events_total", {{"type", "user_message"}}), 1);
  EXPECT_EQ(delta(before, after, "vespid_session_events_total", {{"type", "agent_selected"}}), 1);
  EXPECT_EQ(delta(before, after, "vespid_session_events_total", {{"type", "agent_final"}}), 1);
  // Pairing: one bridge request, approved; one pairing token minted and used.
  EXPECT_EQ(delta(before, after, "vespid_pairing_requests_received_total", {{"kind", "bridge"}}),
            1);
  EXPECT_EQ(delta(before, after, "vespid_pairing_requests_total",
                  {{"kind", "bridge"}, {"decision", "approved"}}),
            1);
  EXPECT_EQ(delta(before, after, "vespid_pairing_tokens_minted_total"), 1);
  EXPECT_EQ(delta(before, after, "vespid_pairing_tokens_used_total"), 1);
  EXPECT_EQ(after.value("vespid_pairing_pending"), 0);
  // Storage committed all of that durably, in batches each counted once.
  EXPECT_GT(delta(before, after, "vespid_storage_commits_total"), 0);
  EXPECT_EQ(delta(before, after, "vespid_storage_commit_duration_seconds_count"),
            delta(before, after, "vespid_storage_commits_total") +
                delta(before, after, "vespid_storage_commit_failures_total"));
  EXPECT_EQ(delta(before, after, "vespid_storage_batch_size_count"),
            delta(before, after, "vespid_storage_commit_duration_seconds_count"));
  EXPECT_GE(delta(before, after, "vespid_storage_batch_size_sum"),
            delta(before, after, "vespid_storage_batch_size_count"));
  // Each dispatch's record went to the store without a sync, and a deferred sync made it
  // durable before its caller was answered (storage.md, "Deferred syncs"); none failed.
  EXPECT_GE(delta(before, after, "vespid_storage_sync_duration_seconds_count"), 1);
  EXPECT_EQ(delta(before, after, "vespid_storage_sync_failures_total"), 0);
  // The core ran all of that: every frame and completion is an item, and it was held meanwhile.
  EXPECT_GE(delta(before, after, "vespid_core_work_total", {{"path", "at_once"}}) +
                delta(before, after, "vespid_core_work_total", {{"path", "queued"}}),
            10);
  EXPECT_GT(delta(before, after, "vespid_core_busy_seconds_total"), 0);
  EXPECT_LT(delta(before, after, "vespid_core_busy_seconds_total"),
            delta(before, after, "vespid_uptime_seconds"))
      << "one logical thread cannot be busy longer than the time that passed";
  // Connections: the bridge node and the node host are open and authenticated now.
  EXPECT_EQ(
      after.value("vespid_connections", {{"dialect", "bridge.v1"}, {"state", "authenticated"}}), 1);
  EXPECT_EQ(after.value("vespid_connections",
                        {{"dialect", "vespid.node.v1"}, {"state", "authenticated"}}),
            1);
  EXPECT_EQ(after.value("vespid_nodes_online", {{"kind", "bridge"}}), 1);
  EXPECT_EQ(after.value("vespid_nodes_online", {{"kind", "node_host"}}), 1);
  EXPECT_GE(delta(before, after, "vespid_connections_opened_total", {{"dialect", "bridge.v1"}}), 1);
  EXPECT_EQ(after.value("vespid_invokes_in_flight"), 0);

  // The bridge node hangs up: counted as the peer's close.
  node.close();
  PromText closed;
  for (int i = 0; i < 100; ++i) {
    closed = scrape();
    if (closed.value("vespid_connections", {{"dialect", "bridge.v1"}}) == 0) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(delta(after, closed, "vespid_connections_closed_total",
                  {{"dialect", "bridge.v1"}, {"reason", "peer"}}),
            1);
  EXPECT_EQ(closed.value("vespid_nodes_online", {{"kind", "bridge"}}), 0);
}

TEST_F(Metrics, ServedOnTheApiListenerOnlyAndOnlyAsGet) {
  start_gateway();
  EXPECT_EQ(get(ws_port_, "/metrics").status, 404);
  EXPECT_EQ(get(web_port_, "/metrics").status, 404);
  EXPECT_EQ(get(api_port_, "/healthz").status, 200);

  HttpReply post = get(api_port_, "/metrics", {}, "POST");
  EXPECT_EQ(post.status, 405) << post.raw_body;
  EXPECT_EQ(post.body.value("code", ""), "METHOD_NOT_ALLOWED");
  HttpReply sub = get(api_port_, "/metrics/extra");
  EXPECT_EQ(sub.status, 404);
  // Loopback without a token configured: no credentials needed, none checked.
  scrape({{"Authorization", "Bearer anything"}});
}

TEST_F(Metrics, WithATokenEveryScrapeNeedsIt) {
  start_gateway(
      {{"VESPID_INTERNAL_TOKEN", kServiceToken}, {"VESPID_METRICS_TOKEN", kMetricsToken}});
  HttpReply none = get(api_port_, "/metrics");
  EXPECT_EQ(none.status, 401) << none.raw_body;
  EXPECT_EQ(none.body.value("code", ""), "UNAUTHORIZED");
  HttpReply wrong = get(api_port_, "/metrics", {{"Authorization", "Bearer not-the-token"}});
  EXPECT_EQ(wrong.status, 401);
  HttpReply wrong_scheme =
      get(api_port_, "/metrics", {{"Authorization", std::string("Basic ") + kMetricsToken}});
  EXPECT_EQ(wrong_scheme.status, 401);
  PromText ok = scrape({{"Authorization", std::string("bearer ") + kMetricsToken}});
  EXPECT_TRUE(ok.has("vespid_connections"));
}

TEST_F(Metrics, AShortTokenStopsStartUpAndDisabledIsA404) {
  std::ofstream(dir_.file("cfg.json")) << config().dump(2);
  CommandResult r = run_command(
      {gateway_bin(), "--state-dir", dir_.file("state"), "--config", dir_.file("cfg.json")},
      {{"VESPID_METRICS_TOKEN", "short"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("metrics.token is too short"), std::string::npos) << r.err;

  config_patch_["metrics"] = {{"enabled", false}};
  start_gateway();
  HttpReply off = get(api_port_, "/metrics");
  EXPECT_EQ(off.status, 404) << off.raw_body;
  EXPECT_EQ(off.body.value("code", ""), "NOT_FOUND");
}

}  // namespace
}  // namespace vespid::test
