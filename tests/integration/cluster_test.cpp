// Three real gateway instances on loopback sharing one PostgreSQL and one nats-server, used the
// way a deployment behind a TCP load balancer would be: a bridge node and a node host
// (`vespid-agent`) on instance A, operators, control clients and workers on B and C.
//
// - a pairing approved on C reaches the node waiting on A; B invokes it;
// - a node asking to pair on A is announced to operators on A, B and C, once each;
// - a session pinned to the node host on A, driven from C, streams to clients on B and C with
//   one gap-free seq line;
// - an access token revoked on A closes the socket that holds it on B;
// - kill -9 of A with an invoke in flight from B: the invoke fails within the lease, not at its
//   timeout; the node reconnects to B and C invokes it there;
// - kill -9 of A under a node host given both A and B: it fails over to B and its session, driven
//   from C, goes on in one seq line;
// - a dispatch posted to B runs on the node host on A and its result is read on C;
// - kill -9 of A while writers create sessions on it: every write A acknowledged is found on B;
// - `vespid session send --gateway A,B`: A is killed mid-turn and the stream goes on through B,
//   every word printed once;
// - nats-server stopped for longer than the lease and started again: the instances reconnect,
//   learn each other's nodes again and carry on (invoke across instances, a pairing approved on
//   another instance).
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "agent_host.hpp"
#include "bridge_client.hpp"
#include "gateway_process.hpp"
#include "nats_server.hpp"
#include "node_host_support.hpp"
#include "operator_client.hpp"
#include "postgres_server.hpp"
#include "skip_or_fail.hpp"
#include "temp_dir.hpp"
#include "test_ids.hpp"
#include "web_test_client.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kLeaseMs = 1500;

// Joins a helper thread however the test body leaves (an ASSERT returns early, a call throws),
// so that a failure is reported rather than ending the process in std::terminate.
struct JoinOnExit {
  std::thread& thread;
  ~JoinOnExit() {
    if (thread.joinable()) thread.join();
  }
};

struct Instance {
  std::string id;
  int api_port = 0, ws_port = 0, bridge_port = 0;
  GatewayProcess gw;
  WebTarget api() const {
    WebTarget t;
    t.port = api_port;
    return t;
  }
  WebTarget ws() const {
    WebTarget t;
    t.port = ws_port;
    return t;
  }
};

class ClusterOfThree : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = PostgresServer::unavailable()) VESPID_SKIP_UNLESS_CI(*why);
    if (auto why = NatsServer::unavailable()) VESPID_SKIP_UNLESS_CI(*why);
    try {
      pg_ = std::make_unique<PostgresServer>();
      pg_->start();
      nats_ = std::make_unique<NatsServer>();
      nats_->start();
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    for (const char* id : {"a", "b", "c"}) {
      auto inst = std::make_unique<Instance>();
      inst->id = id;
      inst->api_port = pick_free_port();
      inst->ws_port = pick_free_port();
      inst->bridge_port = pick_free_port();
      instances_.push_back(std::move(inst));
    }
    for (auto& inst : instances_) ASSERT_NO_FATAL_FAILURE(start(*inst));
    auto admin = admin_of(A());
    org_id_ = admin.call("orgs.create", {{"name", "acme"}})["org"]["id"];
    admin.call("users.create", {{"name", "alice"}, {"org", "acme"}, {"role", "admin"}});
    admin.call("users.create", {{"name", "bob"}, {"org", "acme"}, {"role", "member"}});
    json alice = admin.call("tokens.create", {{"user", "alice"}});
    admin_token_ = alice["token"];
    json bob = admin.call("tokens.create", {{"user", "bob"}});
    member_token_ = bob["token"];
    member_token_id_ = bob.value("tokenId", "");
    // Every instance knows the other two before the tests start.
    for (auto& inst : instances_) ASSERT_TRUE(wait_others(*inst, 2)) << inst->gw.log_text();
  }

  void TearDown() override {
    for (auto& inst : instances_) {
      if (inst->gw.running()) {
        EXPECT_EQ(inst->gw.terminate(), 0) << inst->gw.log_text();
      }
    }
  }

  Instance& A() { return *instances_[0]; }
  Instance& B() { return *instances_[1]; }
  Instance& C() { return *instances_[2]; }

  json config_of(const Instance& inst) {
    return {{"plugins",
             {{"instances",
               json::array({{{"name", "storage"},
                             {"plugin", "postgres"},
                             {"config", {{"conninfo", pg_->conninfo()}, {"schema", "cluster"}}}},
                            {{"name", "bus"},
                             {"plugin", "nats"},
                             {"config", {{"servers", json::array({nats_->url()})}}}},
                            {{"name", "local"}, {"plugin", "unix"}},
                            {{"name", "bridge"},
                             {"plugin", "bridge"},
                             {"config", {{"port", inst.bridge_port}}}},
                            {{"name", "api"},
                             {"plugin", "ws"},
                             {"config",
                              {{"port", inst.api_port},
                               {"routes", json::array({{{"prefix", "/v1/"}, {"dialect", "rest.v1"}},
                                                       {{"prefix", "/internal/v1/"},
                                                        {"dialect", "rest.v1"}}})}}}},
                            {{"name", "ws"},
                             {"plugin", "ws"},
                             {"config",
                              {{"port", inst.ws_port},
                               {"routes", json::array({{{"path", "/ws"},
                                                        {"dialect", "vespid.node.v1"},
                                                        {"websocket", true}},
                                                       {{"path", "/ws/client"},
                                                        {"dialect", "vespid.client.v1"},
                                                        {"websocket", true}}})}}}}})}}},
            {"cluster", {{"instance_id", inst.id}, {"heartbeat_ms", 300}, {"lease_ms", kLeaseMs}}},
            {"bridge", {{"ping_interval_ms", 60000}, {"idle_timeout_ms", 120000}}}};
  }

  void start(Instance& inst) {
    const std::string cfg = dir_.file(inst.id + ".json");
    std::ofstream(cfg) << config_of(inst).dump(2);
    inst.gw.start(dir_.file("state-" + inst.id), {"--config", cfg},
                  {{"VESPID_INTERNAL_TOKEN", kServiceToken}});
    ASSERT_TRUE(inst.gw.wait_ready()) << inst.gw.log_text();
  }

  cli::OperatorClient admin_of(Instance& inst) {
    return cli::OperatorClient::connect(inst.gw.socket_path());
  }

  bool wait_others(Instance& inst, int count) {
    for (int i = 0; i < 200; ++i) {
      json st = admin_of(inst).call("status");
      if (st["cluster"].value("otherInstances", 0) == count) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // Polls `inst` until it sees node `node_id` online (its own or another instance's).
  bool wait_online(Instance& inst, const std::string& node_id, bool online = true) {
    for (int i = 0; i < 200; ++i) {
      json d = admin_of(inst).call("nodes.describe", {{"node", node_id}});
      if ((d["node"].value("status", "") == "online") == online) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // A bridge node pairs on `at`; an operator on `approver` approves it.
  std::string pair_bridge_node(BridgeClient& c, Instance& approver, const std::string& node_id) {
    c.pair_request(node_id, {{"displayName", node_id},
                             {"platform", "ios"},
                             {"commands", json::array({"echo", "slow"})}});
    auto admin = admin_of(approver);
    std::string request_id;
    for (int i = 0; i < 100 && request_id.empty(); ++i) {
      const json pending = admin.call("nodes.pending");  // kept: the loop reads into it
      for (const auto& p : pending["pending"]) {
        if (p["nodeId"] == node_id) request_id = p["requestId"];
      }
      if (request_id.empty()) std::this_thread::sleep_for(20ms);
    }
    EXPECT_FALSE(request_id.empty()) << node_id << " never showed up as pending on " << approver.id;
    admin.call("nodes.approve", {{"requestId", request_id}, {"org", "acme"}});
    auto ok = c.read_type("pair-ok", 5s);
    EXPECT_TRUE(ok) << "no pair-ok on the node's instance for an approval on " << approver.id;
    EXPECT_TRUE(c.read_type("hello-ok", 5s));
    return ok ? (*ok)["token"].get<std::string>() : "";
  }

  // Answers invokes on `c` with {"echo": <params>, "by": <tag>} until `stop`.
  static void answer_invoke(BridgeClient& c, const std::string& tag) {
    auto inv = c.read_type("invoke", 10s);
    ASSERT_TRUE(inv);
    c.send({{"type", "invoke-res"},
            {"id", (*inv)["id"]},
            {"ok", true},
            {"payloadJSON",
             json{{"echo", BridgeClient::parse_field(*inv, "paramsJSON")}, {"by", tag}}.dump()}});
  }

  std::unique_ptr<WsClient> control_client(Instance& inst, const std::string& token) {
    auto c = std::make_unique<WsClient>(inst.ws());
    int status = c->connect("/ws/client",
                            {{"Authorization", "Bearer " + token}, {"x-org-id", org_id_}}, nullptr);
    EXPECT_EQ(status, 101);
    c->send({{"type", "client_hello"}});
    EXPECT_TRUE(c->read_type("client_hello_ok"));
    return c;
  }

  HttpReply rest(Instance& inst, const std::string& method, const std::string& path,
                 const std::string& bearer, const json& body = nullptr) {
    Headers h;
    if (!bearer.empty()) h["Authorization"] = "Bearer " + bearer;
    return http_request(inst.api(), method, path, h, body.is_null() ? "" : body.dump());
  }

  HttpReply internal(Instance& inst, const std::string& method, const std::string& path,
                     const json& body = nullptr) {
    return http_request(inst.api(), method, path, {{"x-gateway-token", kServiceToken}},
                        body.is_null() ? "" : body.dump());
  }

  // Pairs a node host through `inst`'s REST API; its agent id and token.
  std::pair<std::string, std::string> pair_node_host(Instance& inst, const std::string& name) {
    HttpReply pt =
        rest(inst, "POST", "/v1/orgs/" + org_id_ + "/agents/pairing-tokens", admin_token_);
    EXPECT_EQ(pt.status, 201) << pt.raw_body;
    HttpReply r = rest(
        inst, "POST", "/v1/agents/pair", "",
        {{"pairingToken", pt.body.value("token", "")}, {"name", name}, {"agentVersion", "0.9.0"}});
    EXPECT_EQ(r.status, 201) << r.raw_body;
    return {r.body.value("agentId", ""), r.body.value("agentToken", "")};
  }

  // True once `inst` lists node host `agent_id` as online.
  bool wait_agent_online(Instance& inst, const std::string& agent_id) {
    for (int i = 0; i < 200; ++i) {
      HttpReply r = rest(inst, "GET", "/v1/orgs/" + org_id_ + "/agents", admin_token_);
      for (const auto& a : r.body.value("agents", json::array())) {
        if (a.value("id", "") == agent_id && a.value("status", "") == "online") return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  TempDir dir_;
  std::unique_ptr<PostgresServer> pg_;
  std::unique_ptr<NatsServer> nats_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::string org_id_, admin_token_, member_token_, member_token_id_;
};

TEST_F(ClusterOfThree, APairingApprovedOnCReachesTheNodeOnAAndBInvokesIt) {
  auto node = BridgeClient::connect("127.0.0.1", A().bridge_port);
  const std::string token = pair_bridge_node(node, C(), "kiosk");
  ASSERT_FALSE(token.empty());
  ASSERT_TRUE(wait_online(B(), "kiosk")) << B().gw.log_text();

  std::thread answer([&] { answer_invoke(node, "a"); });
  JoinOnExit join_answer{answer};
  json out = admin_of(B()).call("nodes.invoke",
                                {{"node", "kiosk"}, {"command", "echo"}, {"params", {{"n", 7}}}});
  answer.join();
  json payload = out.contains("payload") ? out["payload"] : out;
  EXPECT_EQ(payload["echo"]["n"], 7) << out.dump();
  EXPECT_EQ(payload["by"], "a") << out.dump();

  // A command the node did not declare is refused on B without a trip to A.
  try {
    admin_of(B()).call("nodes.invoke", {{"node", "kiosk"}, {"command", "sms.send"}});
    ADD_FAILURE() << "an undeclared command was invoked";
  } catch (const cli::OperatorError& e) {
    EXPECT_EQ(e.code, "UNAVAILABLE") << e.what();
  }
}

// A node's later hello on A declares a new command: the re-approval is decided on C, and B may
// invoke the command on the same connection (issue 20).
TEST_F(ClusterOfThree, ANewCommandReapprovedOnCIsInvokedFromBOnTheLiveNodeOnA) {
  auto first = BridgeClient::connect("127.0.0.1", A().bridge_port);
  const std::string token = pair_bridge_node(first, A(), "upgraded");
  first.close();
  auto node = BridgeClient::connect("127.0.0.1", A().bridge_port);
  ASSERT_EQ(node.hello("upgraded", token,
                       {{"commands", json::array({"echo", "slow", "camera.snap"})}})["type"],
            "hello-ok");
  ASSERT_EQ(node.call("health")["ok"], true);  // the hello, and its re-approval, are done

  json pending = admin_of(C()).call("nodes.pending")["pending"];
  ASSERT_EQ(pending.size(), 1u) << pending.dump();
  EXPECT_EQ(pending[0]["addedCommands"], json::array({"camera.snap"}));
  json approved = admin_of(C()).call("nodes.approve", {{"requestId", pending[0]["requestId"]}});
  EXPECT_EQ(approved["reapproval"], true) << approved.dump();

  std::thread answer([&] { answer_invoke(node, "a"); });
  JoinOnExit join_answer{answer};
  // B routes by what presence told it; the holder's update reaches it shortly.
  std::optional<json> out;
  std::string last_error;
  for (int i = 0; i < 100 && !out; ++i) {
    try {
      out = admin_of(B()).call("nodes.invoke", {{"node", "upgraded"}, {"command", "camera.snap"}});
    } catch (const cli::OperatorError& e) {
      last_error = e.message;
      if (e.code != "UNAVAILABLE") break;
      std::this_thread::sleep_for(50ms);
    }
  }
  answer.join();
  ASSERT_TRUE(out) << last_error;
  json payload = out->contains("payload") ? (*out)["payload"] : *out;
  EXPECT_EQ(payload["by"], "a") << out->dump();
}

TEST_F(ClusterOfThree, OperatorsOnEveryInstanceHearOfAPairingRequestMadeOnA) {
  std::vector<cli::OperatorClient> watchers;
  for (Instance* at : {&A(), &B(), &C()}) {
    watchers.push_back(admin_of(*at));
    watchers.back().call("whoami");
  }
  auto node = BridgeClient::connect("127.0.0.1", A().bridge_port);
  node.pair_request("wall", {{"displayName", "hall display"}, {"platform", "ios"}});
  for (std::size_t i = 0; i < watchers.size(); ++i) {
    auto event = watchers[i].read_event(5s);
    ASSERT_TRUE(event) << "no node.pair.requested on instance "
                       << "abc"[i];
    EXPECT_EQ((*event)["event"], "node.pair.requested");
    EXPECT_EQ((*event)["payload"]["nodeId"], "wall");
    EXPECT_EQ((*event)["payload"]["displayName"], "hall display");
    EXPECT_FALSE(watchers[i].read_event(300ms)) << "announced once on instance "
                                                << "abc"[i];
  }
}

// Voice wake triggers are the org's: a node's voicewake.set on A reaches the org's node on B
// (issue 20; the reference pushes voicewake.changed to every connected node).
TEST_F(ClusterOfThree, AVoicewakeSetOnAReachesTheOrgsNodeOnB) {
  auto on_a = BridgeClient::connect("127.0.0.1", A().bridge_port);
  ASSERT_FALSE(pair_bridge_node(on_a, A(), "speaker-a").empty());
  auto on_b = BridgeClient::connect("127.0.0.1", B().bridge_port);
  ASSERT_FALSE(pair_bridge_node(on_b, B(), "speaker-b").empty());
  ASSERT_TRUE(wait_online(A(), "speaker-b")) << A().gw.log_text();

  const json triggers = json::array({"hey kitchen"});
  json set = on_a.call("voicewake.set", {{"triggers", triggers}});
  ASSERT_EQ(set["ok"], true) << set.dump();
  auto heard = on_b.read_until(
      [&](const json& f) {
        return f.value("event", "") == "voicewake.changed" &&
               BridgeClient::parse_field(f, "payloadJSON")["triggers"] == triggers;
      },
      5s);
  EXPECT_TRUE(heard) << "the node on B did not hear A's voicewake.set";
}

TEST_F(ClusterOfThree, ASessionOnANodeHostOnAStreamsToClientsOnBAndC) {
  std::string pt;
  {
    HttpReply r = rest(A(), "POST", "/v1/orgs/" + org_id_ + "/agents/pairing-tokens", admin_token_);
    ASSERT_EQ(r.status, 201) << r.raw_body;
    pt = r.body.value("token", "");
  }
  AgentHost agent(dir_, "host-a", pt, A().api_port);
  agent.start();
  HttpReply created = rest(C(), "POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                           {{"title", "across"}, {"engine", "vespid.echo.v1"}, {"model", "none"}});
  ASSERT_EQ(created.status, 201) << created.raw_body;
  const std::string sid = created.body["session"].value("id", "");
  // The node host is online as far as C can tell before the message is sent.
  bool online = false;
  for (int i = 0; i < 200 && !online; ++i) {
    HttpReply r = rest(C(), "GET", "/v1/orgs/" + org_id_ + "/agents", admin_token_);
    for (const auto& a : r.body.value("agents", json::array())) {
      if (a.value("id", "") == agent.id() && a.value("status", "") == "online") online = true;
    }
    if (!online) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(online) << agent.log() << C().gw.log_text();

  auto on_b = control_client(B(), member_token_);
  auto on_c = control_client(C(), member_token_);
  for (auto* c : {on_b.get(), on_c.get()}) {
    c->send({{"type", "session_join"}, {"sessionId", sid}});
    ASSERT_TRUE(c->read_type("session_joined"));
  }
  on_c->send({{"type", "session_send"}, {"sessionId", sid}, {"message", "hello from c"}});

  // Both clients see the same gap-free line, ending with the agent's final answer from A.
  for (auto* c : {on_b.get(), on_c.get()}) {
    std::vector<json> events;
    bool final_seen = false;
    for (int i = 0; i < 500 && !final_seen; ++i) {
      auto f = c->read(10000ms);
      ASSERT_TRUE(f) << "no agent_final; agent:\n"
                     << agent.log() << "\nA:\n"
                     << A().gw.log_text() << "\nC:\n"
                     << C().gw.log_text();
      if ((*f)["type"] != "session_event") continue;
      events.push_back(*f);
      final_seen = (*f)["eventType"] == "agent_final";
    }
    ASSERT_TRUE(final_seen);
    uint64_t want = events.front()["seq"];
    for (const auto& e : events) EXPECT_EQ(e["seq"], want++) << e.dump();
    EXPECT_EQ(events.back()["payload"]["text"], "hello from c");
  }
}

// A turn dispatched by C (the host on A) stopped through B: B finds the turn's dispatch record,
// relays the cancel to C, which ends the turn and tells the host through A.
TEST_F(ClusterOfThree, ACancelSentToBStopsTheTurnCWaitsForOnTheHostOnA) {
  HttpReply pairing =
      rest(A(), "POST", "/v1/orgs/" + org_id_ + "/agents/pairing-tokens", admin_token_);
  ASSERT_EQ(pairing.status, 201) << pairing.raw_body;
  AgentHost agent(dir_, "host-slow-a", pairing.body.value("token", ""), A().api_port);
  agent.start({}, {"--echo-delay-ms", "200"});
  ASSERT_TRUE(wait_agent_online(C(), agent.id())) << agent.log();
  HttpReply created = rest(C(), "POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                           {{"title", "stop me"}, {"engine", "vespid.echo.v1"}, {"model", "none"}});
  ASSERT_EQ(created.status, 201) << created.raw_body;
  const std::string sid = created.body["session"].value("id", "");
  const std::string base = "/v1/orgs/" + org_id_ + "/sessions/" + sid;
  std::string message;
  for (int i = 1; i <= 40; ++i) message += (i > 1 ? " w" : "w") + std::to_string(i);
  HttpReply sent = rest(C(), "POST", base + "/messages", member_token_, {{"message", message}});
  ASSERT_EQ(sent.status, 202) << sent.raw_body;
  const std::string rid = sent.body.value("requestId", "");

  auto events_of_type = [&](const std::string& type) {
    json found = json::array();
    HttpReply ev = rest(B(), "GET", base + "/events?limit=200", member_token_);
    for (const auto& e : ev.body.value("events", json::array()))
      if (e.value("eventType", "") == type) found.push_back(e);
    return found;
  };
  bool streaming = false;
  for (int i = 0; i < 200 && !streaming; ++i) {
    streaming = !events_of_type("agent_delta").empty();
    if (!streaming) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(streaming) << agent.log();

  HttpReply stopped = rest(B(), "POST", base + "/cancel", member_token_);
  ASSERT_EQ(stopped.status, 200) << stopped.raw_body;
  EXPECT_EQ(stopped.body["cancelled"], true) << stopped.raw_body;
  EXPECT_EQ(stopped.body["requestId"], rid);
  EXPECT_EQ(stopped.body["relayedTo"], C().id);

  json errors;
  for (int i = 0; i < 200; ++i) {
    errors = events_of_type("error");
    if (!errors.empty()) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(errors.size(), 1u) << C().gw.log_text();
  EXPECT_EQ(errors[0]["payload"]["code"], "TURN_CANCELED");
  EXPECT_EQ(errors[0]["payload"]["stopReason"], "rest");
  // The host itself stopped: its result is TURN_CANCELED, stored long before 40 words' 8 s.
  HttpReply result;
  for (int i = 0; i < 200; ++i) {
    result = internal(C(), "GET", "/internal/v1/results/" + rid);
    if (result.status == 200) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(result.status, 200) << result.raw_body << agent.log();
  EXPECT_EQ(result.body.value("error", "").rfind("TURN_CANCELED", 0), 0u) << result.raw_body;
  EXPECT_TRUE(events_of_type("agent_final").empty());
}

// Reads session events from `c` until an agent_final, appending them to `events`.
::testing::AssertionResult read_turn(WsClient& c, std::vector<json>& events) {
  for (int i = 0; i < 500; ++i) {
    auto f = c.read(std::chrono::milliseconds(10000));
    if (!f) return ::testing::AssertionFailure() << "no agent_final";
    if ((*f)["type"] != "session_event") continue;
    events.push_back(*f);
    if ((*f)["eventType"] == "agent_final") return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "too many frames without an agent_final";
}

TEST_F(ClusterOfThree, ANodeHostFailsOverFromAToBAndItsSessionGoesOn) {
  HttpReply pairing =
      rest(A(), "POST", "/v1/orgs/" + org_id_ + "/agents/pairing-tokens", admin_token_);
  ASSERT_EQ(pairing.status, 201) << pairing.raw_body;
  AgentHost agent(dir_, "host-f", pairing.body.value("token", ""), A().api_port);
  auto ws_url = [](const Instance& i) {
    return "ws://127.0.0.1:" + std::to_string(i.ws_port) + "/ws";
  };
  agent.start({}, {"--gateway", ws_url(A()) + "," + ws_url(B())});
  HttpReply created =
      rest(C(), "POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
           {{"title", "failover"}, {"engine", "vespid.echo.v1"}, {"model", "none"}});
  ASSERT_EQ(created.status, 201) << created.raw_body;
  const std::string sid = created.body["session"].value("id", "");
  auto agent_online_on_c = [&] {
    for (int i = 0; i < 200; ++i) {
      HttpReply r = rest(C(), "GET", "/v1/orgs/" + org_id_ + "/agents", admin_token_);
      for (const auto& a : r.body.value("agents", json::array())) {
        if (a.value("id", "") == agent.id() && a.value("status", "") == "online") return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  };
  ASSERT_TRUE(agent_online_on_c()) << agent.log();

  auto client = control_client(C(), member_token_);
  client->send({{"type", "session_join"}, {"sessionId", sid}});
  ASSERT_TRUE(client->read_type("session_joined"));
  client->send({{"type", "session_send"}, {"sessionId", sid}, {"message", "before"}});
  std::vector<json> events;
  ASSERT_TRUE(read_turn(*client, events)) << agent.log();
  EXPECT_EQ(events.back()["payload"]["text"], "before");

  // A dies; the node host moves on to B; C lets A go and routes the next turn through B.
  A().gw.kill9();
  ASSERT_TRUE(wait_others(C(), 1)) << C().gw.log_text();
  ASSERT_TRUE(agent_online_on_c()) << agent.log();
  EXPECT_NE(agent.log().find("trying the next gateway URL, " + ws_url(B())), std::string::npos)
      << agent.log();
  client->send({{"type", "session_send"}, {"sessionId", sid}, {"message", "after"}});
  ASSERT_TRUE(read_turn(*client, events)) << agent.log() << C().gw.log_text();
  EXPECT_EQ(events.back()["payload"]["text"], "after");
  // One line across the failover: no gap, no duplicate.
  uint64_t want = events.front()["seq"];
  for (const auto& e : events) EXPECT_EQ(e["seq"], want++) << e.dump();
  HttpReply all =
      rest(C(), "GET", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/events?afterSeq=0&limit=1000",
           member_token_);
  ASSERT_EQ(all.status, 200) << all.raw_body;
  EXPECT_EQ(all.body["events"].size(), events.back()["seq"].get<uint64_t>())
      << "every stored event, from seq 1, is the line the client saw";
}

TEST_F(ClusterOfThree, ATokenRevokedOnAClosesItsSocketOnB) {
  auto on_b = control_client(B(), member_token_);
  ASSERT_FALSE(member_token_id_.empty());
  admin_of(A()).call("tokens.revoke", {{"tokenId", member_token_id_}});
  // Whatever the socket still says before it closes (an error frame) is read and dropped.
  for (int i = 0; i < 50 && !on_b->closed(); ++i) on_b->read_message(100ms);
  EXPECT_TRUE(on_b->closed()) << B().gw.log_text();
}

TEST_F(ClusterOfThree, KillingAFailsItsInFlightInvokeFastAndTheNodeMovesToB) {
  auto node = BridgeClient::connect("127.0.0.1", A().bridge_port);
  const std::string token = pair_bridge_node(node, A(), "mover");
  ASSERT_TRUE(wait_online(B(), "mover"));

  // B invokes; the node never answers; A dies with the invoke in flight.
  std::atomic<bool> done{false};
  std::string code;
  auto t0 = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration took{};
  std::thread caller([&] {
    try {
      admin_of(B()).call("nodes.invoke",
                         {{"node", "mover"}, {"command", "slow"}, {"timeoutMs", 60000}});
    } catch (const cli::OperatorError& e) {
      code = e.code;
    }
    took = std::chrono::steady_clock::now() - t0;
    done = true;
  });
  JoinOnExit join_caller{caller};
  ASSERT_TRUE(node.read_type("invoke", 10s)) << "the invoke reached the node on A";
  A().gw.kill9();
  caller.join();
  EXPECT_EQ(code, "UNAVAILABLE");
  EXPECT_LT(took, std::chrono::milliseconds(kLeaseMs * 4))
      << "failed at the lease (" << kLeaseMs << " ms), not at the invoke's 60 s timeout";

  // The node reconnects, to B this time; C invokes it there.
  auto again = BridgeClient::connect("127.0.0.1", B().bridge_port);
  EXPECT_EQ(again.hello("mover", token)["type"], "hello-ok");
  // C has let A go (its lease ran out there too), so the node it sees online is the one on B.
  ASSERT_TRUE(wait_others(C(), 1)) << C().gw.log_text();
  ASSERT_TRUE(wait_online(C(), "mover")) << C().gw.log_text();
  std::thread answer([&] { answer_invoke(again, "b"); });
  JoinOnExit join_answer{answer};
  json out = admin_of(C()).call("nodes.invoke", {{"node", "mover"}, {"command", "echo"}});
  answer.join();
  json payload = out.contains("payload") ? out["payload"] : out;
  EXPECT_EQ(payload["by"], "b") << out.dump();
}

TEST_F(ClusterOfThree, ADispatchPostedToBRunsOnTheNodeHostOnAAndItsResultIsReadOnC) {
  const auto [agent_id, agent_token] = pair_node_host(A(), "runner");
  WsClient host(A().ws());
  ASSERT_EQ(host.connect("/ws", {{"Authorization", "Bearer " + agent_token}}), 101);
  host.send({{"type", "hello"}, {"agentVersion", "0.9.0"}, {"name", "runner"}});
  host.send({{"type", "ping"}, {"ts", 1}});
  ASSERT_TRUE(host.read_type("pong"));
  ASSERT_TRUE(wait_agent_online(B(), agent_id)) << B().gw.log_text();

  const json body = {{"organizationId", org_id_},
                     {"requestedByUserId", test_uuid("user-1")},
                     {"runId", test_uuid("run-x")},
                     {"workflowId", test_uuid("wf-1")},
                     {"nodeId", "step-1"},
                     {"nodeType", "agent.execute"},
                     {"attemptCount", 1},
                     {"kind", "agent.execute"},
                     {"payload", {{"message", "across"}}}};
  HttpReply d = internal(B(), "POST", "/internal/v1/dispatch-async", body);
  ASSERT_EQ(d.status, 201) << d.raw_body << B().gw.log_text();
  EXPECT_EQ(d.body["dispatched"], true) << d.raw_body;
  const std::string request_id = d.body.value("requestId", "");

  auto ex = host.read_type("execute", 10s);
  ASSERT_TRUE(ex) << "the execute never reached the node host on A\n" << A().gw.log_text();
  EXPECT_EQ((*ex)["requestId"], request_id);
  EXPECT_EQ((*ex)["payload"]["message"], "across");
  EXPECT_EQ(internal(C(), "GET", "/internal/v1/results/" + request_id).body["code"],
            "RESULT_NOT_READY");
  host.send({{"type", "execute_received"}, {"requestId", request_id}});
  host.send({{"type", "execute_result"},
             {"requestId", request_id},
             {"status", "succeeded"},
             {"output", {{"text", "done on a"}}}});
  ASSERT_TRUE(host.read_type("execute_ack", 10s));

  for (Instance* at : {&C(), &B()}) {
    HttpReply r = internal(*at, "GET", "/internal/v1/results/" + request_id);
    ASSERT_EQ(r.status, 200) << at->id << ": " << r.raw_body;
    EXPECT_EQ(r.body, json({{"status", "succeeded"}, {"output", {{"text", "done on a"}}}}));
  }
  // The same attempt posted again, to C this time, is answered from the stored result.
  HttpReply again = internal(C(), "POST", "/internal/v1/dispatch-async", body);
  EXPECT_EQ(again.status, 200) << again.raw_body;
  EXPECT_EQ(again.body["cached"], true) << again.raw_body;
}

TEST_F(ClusterOfThree, KillingAUnderWriteLoadLosesNoWriteItAcknowledged) {
  // Writers create sessions on A as fast as it answers; A is killed while they run.
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> refused{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int n = 0; !stop; ++n) {
        HttpReply r = rest(A(), "POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                           {{"title", "w" + std::to_string(w) + "-" + std::to_string(n)},
                            {"engine", "vespid.echo.v1"},
                            {"model", "none"}});
        if (r.status == 201) {
          std::lock_guard lock(mu);
          acknowledged.insert(r.body["session"].value("id", ""));
        } else {
          ++refused;  // no answer (A is gone): not acknowledged, nothing is promised
          if (r.status == 0) return;
        }
      }
    });
  }
  auto join_all = [&] {
    stop = true;
    for (auto& t : writers) {
      if (t.joinable()) t.join();
    }
  };
  struct JoinAll {
    std::function<void()> f;
    ~JoinAll() { f(); }
  } join_writers{join_all};
  for (int i = 0; i < 400; ++i) {
    {
      std::lock_guard lock(mu);
      if (acknowledged.size() >= 50) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  A().gw.kill9();
  join_all();
  ASSERT_GE(acknowledged.size(), 50u) << "the writers barely ran\n" << A().gw.log_text();

  // Every session A acknowledged is in storage, as B sees it.
  std::size_t missing = 0;
  for (const auto& id : acknowledged) {
    HttpReply r = rest(B(), "GET", "/v1/orgs/" + org_id_ + "/sessions/" + id, member_token_);
    if (r.status != 200) {
      ++missing;
      ADD_FAILURE() << "session " << id << " acknowledged by A is missing on B: " << r.status << " "
                    << r.raw_body;
    }
  }
  EXPECT_EQ(missing, 0u) << acknowledged.size() << " acknowledged, " << refused
                         << " unanswered when A died";
  // B and C go on without A.
  ASSERT_TRUE(wait_others(B(), 1)) << B().gw.log_text();
  HttpReply after = rest(B(), "POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                         {{"title", "after"}, {"engine", "vespid.echo.v1"}, {"model", "none"}});
  EXPECT_EQ(after.status, 201) << after.raw_body;
}

TEST_F(ClusterOfThree, TheCliStreamsATurnOnThroughBWhenAIsKilledMidTurn) {
  HttpReply pairing =
      rest(B(), "POST", "/v1/orgs/" + org_id_ + "/agents/pairing-tokens", admin_token_);
  ASSERT_EQ(pairing.status, 201) << pairing.raw_body;
  AgentHost agent(dir_, "host-slow", pairing.body.value("token", ""), B().api_port);
  // 24 words, 150 ms apart: the turn lasts over 3 s, long enough to lose A in the middle.
  agent.start({}, {"--gateway", "ws://127.0.0.1:" + std::to_string(B().ws_port) + "/ws",
                   "--echo-delay-ms", "150"});
  ASSERT_TRUE(wait_agent_online(C(), agent.id())) << agent.log();
  HttpReply created = rest(C(), "POST", "/v1/orgs/" + org_id_ + "/sessions", member_token_,
                           {{"title", "cli"}, {"engine", "vespid.echo.v1"}, {"model", "none"}});
  ASSERT_EQ(created.status, 201) << created.raw_body;
  const std::string sid = created.body["session"].value("id", "");
  std::string message;
  for (int i = 1; i <= 24; ++i) message += (i > 1 ? " w" : "w") + std::to_string(i);

  auto ws_client_url = [](const Instance& i) {
    return "ws://127.0.0.1:" + std::to_string(i.ws_port) + "/ws/client";
  };
  CommandResult sent;
  std::thread cli([&] {
    sent = run_command({VESPID_CLI_BIN, "session", "send", "--gateway",
                        ws_client_url(A()) + "," + ws_client_url(B()), "--org", org_id_, "--token",
                        member_token_, "--session", sid, "--message", message},
                       {}, 60s);
  });
  JoinOnExit join_cli{cli};
  // Once the answer is streaming (a few deltas stored), A goes.
  bool streaming = false;
  for (int i = 0; i < 200 && !streaming; ++i) {
    HttpReply ev =
        rest(C(), "GET", "/v1/orgs/" + org_id_ + "/sessions/" + sid + "/events", member_token_);
    int deltas = 0;
    for (const auto& e : ev.body.value("events", json::array())) {
      deltas += e.value("eventType", "") == "agent_delta";
    }
    streaming = deltas >= 3;
    if (!streaming) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(streaming) << agent.log();
  A().gw.kill9();
  cli.join();
  ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  EXPECT_EQ(sent.out, message + "\n") << "every word once, in order, across the failover";
  EXPECT_NE(sent.err.find("(going on via " + ws_client_url(B()) + ")"), std::string::npos)
      << sent.err;
  // B, which holds the node host, took over the turn A was waiting for.
  EXPECT_NE(B().gw.log_text().find("adopted dispatch " + sid + ":agent:"), std::string::npos)
      << B().gw.log_text();
}

TEST_F(ClusterOfThree, NatsServerRestartedTheInstancesReconnectAndCarryOn) {
  auto node = BridgeClient::connect("127.0.0.1", A().bridge_port);
  const std::string token = pair_bridge_node(node, B(), "steady");
  ASSERT_FALSE(token.empty());
  ASSERT_TRUE(wait_online(C(), "steady")) << C().gw.log_text();

  // Down for longer than the lease: every instance lets the others (and their nodes) go.
  nats_->stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(kLeaseMs * 2 + 500));
  for (auto& inst : instances_) {
    EXPECT_EQ(admin_of(*inst).call("status")["bus"]["up"], false) << inst->id;
    EXPECT_TRUE(wait_others(*inst, 0))
        << inst->id << " still counts the others while the bus is down";
  }
  ASSERT_TRUE(wait_online(C(), "steady", false)) << "C cannot reach the node while the bus is down";
  nats_->start();

  for (auto& inst : instances_) {
    ASSERT_TRUE(wait_others(*inst, 2)) << inst->gw.log_text();
    EXPECT_EQ(admin_of(*inst).call("status")["bus"]["up"], true) << inst->id;
  }
  ASSERT_TRUE(wait_online(C(), "steady")) << "C learns the node on A again\n" << C().gw.log_text();
  std::thread answer([&] { answer_invoke(node, "a"); });
  JoinOnExit join_answer{answer};
  json out = admin_of(C()).call("nodes.invoke",
                                {{"node", "steady"}, {"command", "echo"}, {"params", {{"n", 9}}}});
  answer.join();
  json payload = out.contains("payload") ? out["payload"] : out;
  EXPECT_EQ(payload["echo"]["n"], 9) << out.dump();

  // A pairing approved on B still reaches a node waiting on A.
  auto fresh = BridgeClient::connect("127.0.0.1", A().bridge_port);
  EXPECT_FALSE(pair_bridge_node(fresh, B(), "newcomer").empty()) << A().gw.log_text();
  for (auto& inst : instances_) EXPECT_TRUE(inst->gw.running()) << inst->gw.log_text();
}

}  // namespace
}  // namespace vespid::test
