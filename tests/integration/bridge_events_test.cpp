// What the gateway tells bridge nodes without being asked, and what it does with a node whose
// later hello declares new commands (issue 20): `tick`, `voicewake.changed`, re-approvals. The
// real gateway and bridge plugin, a raw JSONL client, and frames shaped as the reference
// client (clawdbot/clawdbot b347d5d9ccbb, src/node-host/bridge-client.ts) writes them.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "bridge_client.hpp"
#include "build_paths.hpp"
#include "gateway_process.hpp"
#include "operator_client.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The fields the reference node host sends in hello and pair-request (runner.ts), less the
// commands, which each test chooses.
json reference_claims(const std::string& node_id, const json& commands) {
  return {{"displayName", node_id},          {"platform", "linux"},
          {"version", "2026.1.19"},          {"coreVersion", "2026.1.19"},
          {"deviceFamily", "linux"},         {"modelIdentifier", "build-host"},
          {"caps", json::array({"system"})}, {"commands", commands}};
}

bool is_event(const json& frame, const std::string& event) {
  return frame.value("type", "") == "event" && frame.value("event", "") == event;
}

class BridgeEvents : public ::testing::Test {
 protected:
  // A gateway whose ticks come every `tick_ms`.
  void start(int tick_ms) {
    port_ = pick_free_port();
    json cfg = {
        {"plugins",
         {{"instances",
           json::array(
               {{{"name", "storage"}, {"plugin", "sqlite"}},
                {{"name", "local"}, {"plugin", "unix"}},
                {{"name", "bridge"}, {"plugin", "bridge"}, {"config", {{"port", port_}}}}})}}},
        {"bridge",
         {{"ping_interval_ms", 600000},
          {"idle_timeout_ms", 1200000},
          {"tick_interval_ms", tick_ms}}}};
    std::ofstream(dir_.file("cfg.json")) << cfg.dump(2);
    gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")});
    ASSERT_TRUE(gw_.wait_ready());
    admin_ = cli::OperatorClient::connect(gw_.socket_path());
    acme_ = admin_.call("orgs.create", {{"name", "acme"}})["org"]["id"];
    admin_.call("orgs.create", {{"name", "globex"}});
  }

  BridgeClient node() { return BridgeClient::connect("127.0.0.1", port_); }

  std::string pending_request_of(const std::string& node_id) {
    for (int i = 0; i < 250; ++i) {
      const json pending = admin_.call("nodes.pending");
      for (const auto& p : pending["pending"]) {
        if (p["nodeId"] == node_id) return p["requestId"];
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << node_id << " never showed up as pending; gateway log:\n" << gw_.log_text();
    return "";
  }

  // Pairs `node_id` into `org` declaring `commands`; returns its token. `c` is left
  // authenticated, with everything up to the voicewake.changed after hello-ok read.
  std::string pair(BridgeClient& c, const std::string& node_id, const json& commands,
                   const std::string& org = "acme") {
    c.pair_request(node_id, reference_claims(node_id, commands));
    admin_.call("nodes.approve", {{"requestId", pending_request_of(node_id)}, {"org", org}});
    auto ok = c.read_type("pair-ok", 5s);
    EXPECT_TRUE(ok) << "no pair-ok for " << node_id;
    EXPECT_TRUE(c.read_type("hello-ok", 5s));
    EXPECT_TRUE(c.read_until([](const json& f) { return is_event(f, "voicewake.changed"); }, 5s));
    c.clear_kept();
    return ok ? (*ok)["token"].get<std::string>() : "";
  }

  // Says hello as the reference client does and returns the frame right after hello-ok.
  json hello_and_next(BridgeClient& c, const std::string& node_id, const std::string& token,
                      const json& commands) {
    json ok = c.hello(node_id, token, reference_claims(node_id, commands));
    EXPECT_EQ(ok["type"], "hello-ok") << ok.dump();
    auto next = c.read(5s);
    EXPECT_TRUE(next) << "nothing after hello-ok";
    return next ? *next : json();
  }

  // Frames `c` received before its pong to a fresh ping. The gateway answers a connection's
  // frames in order and writes to it in order, so anything sent to it before the ping was read
  // comes first.
  static std::vector<json> frames_before_pong(BridgeClient& c, const std::string& id) {
    c.send({{"type", "ping"}, {"id", id}});
    std::vector<json> seen;
    for (;;) {
      auto f = c.read(5s);
      if (!f) {
        ADD_FAILURE() << "no pong " << id;
        return seen;
      }
      if (f->value("type", "") == "pong" && f->value("id", "") == id) return seen;
      seen.push_back(*f);
    }
  }

  // Answers the next invoke of `command` on `c` with {"ran": command}.
  static std::thread answer_one(BridgeClient& c, const std::string& command) {
    return std::thread([&c, command] {
      auto inv = c.read_type("invoke", 10s);
      ASSERT_TRUE(inv);
      EXPECT_EQ((*inv)["command"], command);
      c.send({{"type", "invoke-res"},
              {"id", (*inv)["id"]},
              {"ok", true},
              {"payloadJSON", json{{"ran", command}}.dump()}});
    });
  }

  json invoke(const std::string& node_id, const std::string& command) {
    return admin_.call("nodes.invoke", {{"node", node_id}, {"command", command}});
  }

  // Invokes `command` while `c` answers it: the operator's payload, or {"error": code}.
  json invoke_answered(BridgeClient& c, const std::string& node_id, const std::string& command) {
    std::thread answer = answer_one(c, command);
    json out;
    try {
      out = invoke(node_id, command)["payload"];
    } catch (const cli::OperatorError& e) {
      out = {{"error", e.code}, {"message", e.message}};
    }
    answer.join();
    return out;
  }

  TempDir dir_;
  GatewayProcess gw_;
  cli::OperatorClient admin_;
  std::string acme_;
  int port_ = 0;
};

// Point 1: the reference gateway sends `tick {ts}` every 30 s (server-maintenance.ts); here
// every bridge.tick_interval_ms, to every authenticated node and to nobody else.
TEST_F(BridgeEvents, TickReachesAuthenticatedNodesWithANumericTs) {
  start(/*tick_ms=*/200);
  auto stranger = node();  // connected, never says hello
  auto c = node();
  pair(c, "ticker", json::array({"system.run"}));

  std::vector<int64_t> stamps;
  while (stamps.size() < 2) {
    auto tick = c.read_until([](const json& f) { return is_event(f, "tick"); }, 10s);
    ASSERT_TRUE(tick) << "no tick within 50 intervals";
    // The reference's shape: type, event, and the payload as a JSON text.
    EXPECT_EQ(tick->size(), 3u) << tick->dump();
    ASSERT_TRUE((*tick)["payloadJSON"].is_string()) << tick->dump();
    json payload = BridgeClient::parse_field(*tick, "payloadJSON");
    ASSERT_TRUE(payload["ts"].is_number_integer()) << payload.dump();
    EXPECT_GT(payload["ts"].get<int64_t>(), 1700000000000) << "milliseconds since the epoch";
    stamps.push_back(payload["ts"]);
  }
  EXPECT_GE(stamps[1], stamps[0]);

  // Two ticks went out before the stranger's ping: none of them to it.
  for (const auto& f : frames_before_pong(stranger, "s1")) {
    EXPECT_FALSE(is_event(f, "tick")) << "an unauthenticated connection got " << f.dump();
  }
}

// Point 2: after hello-ok the reference sends `voicewake.changed {triggers}` with the current
// triggers (server-node-bridge.ts, onAuthenticated), and after a voicewake.set it sends the new
// ones to every connected node (server-bridge-runtime.ts). Here the triggers are the org's.
TEST_F(BridgeEvents, VoicewakeChangedFollowsHelloOkAndEveryNodesSet) {
  start(/*tick_ms=*/3600000);
  auto a = node();
  const std::string token_a = pair(a, "phone-a", json::array({"canvas.snapshot"}));
  auto b = node();
  const std::string token_b = pair(b, "phone-b", json::array({"canvas.snapshot"}));
  auto other = node();
  pair(other, "phone-globex", json::array({"canvas.snapshot"}), "globex");

  // A fresh connection: the frame after hello-ok carries the stored (default, empty) triggers.
  a = node();
  json first = hello_and_next(a, "phone-a", token_a, json::array({"canvas.snapshot"}));
  ASSERT_TRUE(is_event(first, "voicewake.changed")) << first.dump();
  ASSERT_TRUE(first["payloadJSON"].is_string());
  EXPECT_EQ(BridgeClient::parse_field(first, "payloadJSON"), json({{"triggers", json::array()}}));

  // phone-b sets the triggers: both acme nodes hear the new list, the setter before its res.
  const json triggers = json::array({"hey vespid", "computer"});
  b.send({{"type", "req"},
          {"id", "set-1"},
          {"method", "voicewake.set"},
          {"paramsJSON", json{{"triggers", triggers}}.dump()}});
  auto b_event = b.read(5s);
  ASSERT_TRUE(b_event);
  ASSERT_TRUE(is_event(*b_event, "voicewake.changed")) << b_event->dump();
  EXPECT_EQ(BridgeClient::parse_field(*b_event, "payloadJSON")["triggers"], triggers);
  auto res = b.read_type("res", 5s);
  ASSERT_TRUE(res);
  EXPECT_EQ((*res)["ok"], true) << res->dump();

  auto a_event = a.read_until([](const json& f) { return is_event(f, "voicewake.changed"); }, 5s);
  ASSERT_TRUE(a_event) << "another node's voicewake.set did not reach phone-a";
  EXPECT_EQ(BridgeClient::parse_field(*a_event, "payloadJSON")["triggers"], triggers);

  // Another org's node hears nothing of it and keeps its own (empty) list.
  for (const auto& f : frames_before_pong(other, "o1")) {
    EXPECT_FALSE(is_event(f, "voicewake.changed")) << "globex heard acme's triggers";
  }
  EXPECT_EQ(BridgeClient::parse_field(other.call("voicewake.get"), "payloadJSON")["triggers"],
            json::array());

  // The next hello-ok is followed by the stored triggers.
  b = node();
  json again = hello_and_next(b, "phone-b", token_b, json::array({"canvas.snapshot"}));
  ASSERT_TRUE(is_event(again, "voicewake.changed")) << again.dump();
  EXPECT_EQ(BridgeClient::parse_field(again, "payloadJSON")["triggers"], triggers);
}

// Point 3: a paired node that says hello with commands it was not approved for (an upgraded
// app). Approved commands stay authoritative; operators see a re-approval listing the new ones,
// and approving it lets the live connection be invoked with them.
TEST_F(BridgeEvents, NewCommandsInALaterHelloWaitForAnOperatorsReapproval) {
  start(/*tick_ms=*/3600000);
  auto watcher = cli::OperatorClient::connect(gw_.socket_path());
  watcher.call("whoami");
  const json old_commands = json::array({"system.run", "system.which"});
  const json new_commands = json::array(
      {"system.run", "system.which", "system.execApprovals.get", "system.execApprovals.set"});
  const json added = json::array({"system.execApprovals.get", "system.execApprovals.set"});
  auto c = node();
  const std::string token = pair(c, "host-1", old_commands);

  c = node();
  hello_and_next(c, "host-1", token, new_commands);
  // Operators hear of it as of a pairing request, flagged and listing what is new.
  std::optional<json> asked;
  while (!asked) {
    auto ev = watcher.read_event(5s);
    ASSERT_TRUE(ev) << "no node.pair.requested for the new commands";
    if ((*ev)["event"] == "node.pair.requested" && (*ev)["payload"].value("reapproval", false))
      asked = (*ev)["payload"];
  }
  EXPECT_EQ((*asked)["nodeId"], "host-1");
  EXPECT_EQ((*asked)["addedCommands"], added);
  EXPECT_EQ((*asked)["commands"], added) << "what approving grants";
  EXPECT_EQ((*asked)["approvedCommands"], old_commands);
  EXPECT_EQ((*asked)["orgId"], acme_);
  const std::string request_id = (*asked)["requestId"];

  json pending = admin_.call("nodes.pending")["pending"];
  ASSERT_EQ(pending.size(), 1u) << pending.dump();
  EXPECT_EQ(pending[0]["requestId"], request_id);
  EXPECT_EQ(pending[0]["addedCommands"], added);
  json listed = admin_.call("nodes.list", {{"org", "acme"}})["nodes"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["pendingReapproval"]["requestId"], request_id);
  EXPECT_EQ(listed[0]["pendingReapproval"]["addedCommands"], added);
  EXPECT_EQ(listed[0]["commands"], old_commands);

  // Meanwhile the node works with what it was approved for, and nothing more.
  EXPECT_EQ(invoke_answered(c, "host-1", "system.run"), json({{"ran", "system.run"}}));
  try {
    invoke("host-1", "system.execApprovals.get");
    ADD_FAILURE() << "a command not yet approved was invoked";
  } catch (const cli::OperatorError& e) {
    EXPECT_EQ(e.code, "UNAVAILABLE") << e.message;
  }

  // The app reconnects with the same hello: still one request, the same one.
  c = node();
  hello_and_next(c, "host-1", token, new_commands);
  EXPECT_EQ(c.call("health")["ok"], true);  // the hello was handled before this answer
  pending = admin_.call("nodes.pending")["pending"];
  ASSERT_EQ(pending.size(), 1u) << pending.dump();
  EXPECT_EQ(pending[0]["requestId"], request_id);

  // A re-approval keeps the node in its org.
  try {
    admin_.call("nodes.approve", {{"requestId", request_id}, {"org", "globex"}});
    ADD_FAILURE() << "a re-approval moved the node to another org";
  } catch (const cli::OperatorError& e) {
    EXPECT_EQ(e.code, "INVALID_REQUEST") << e.message;
  }
  json approved = admin_.call("nodes.approve", {{"requestId", request_id}, {"org", "acme"}});
  EXPECT_EQ(approved["reapproval"], true);
  EXPECT_EQ(approved["addedCommands"], added);
  EXPECT_EQ(approved["node"]["commands"], new_commands);
  EXPECT_EQ(approved["node"]["status"], "online");

  // The same connection, no pair-ok, no new token: it may be invoked with the new commands now.
  for (const auto& f : frames_before_pong(c, "after-approval")) {
    EXPECT_NE(f.value("type", ""), "pair-ok") << f.dump();
    EXPECT_NE(f.value("type", ""), "hello-ok") << f.dump();
  }
  EXPECT_EQ(invoke_answered(c, "host-1", "system.execApprovals.get"),
            json({{"ran", "system.execApprovals.get"}}));
  EXPECT_TRUE(admin_.call("nodes.pending")["pending"].empty());
  listed = admin_.call("nodes.list", {{"org", "acme"}})["nodes"];
  EXPECT_FALSE(listed[0].contains("pendingReapproval")) << listed[0].dump();

  // And its next hello with the same commands asks nothing.
  c = node();
  hello_and_next(c, "host-1", token, new_commands);
  EXPECT_EQ(c.call("health")["ok"], true);
  EXPECT_TRUE(admin_.call("nodes.pending")["pending"].empty());
}

TEST_F(BridgeEvents, ARejectedReapprovalKeepsTheApprovedCommandsAndIsNotAskedAgain) {
  start(/*tick_ms=*/3600000);
  auto c = node();
  const std::string token = pair(c, "phone", json::array({"canvas.snapshot"}));
  const json declared = json::array({"canvas.snapshot", "sms.send"});
  c = node();
  hello_and_next(c, "phone", token, declared);
  EXPECT_EQ(c.call("health")["ok"], true);
  json pending = admin_.call("nodes.pending")["pending"];
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0]["addedCommands"], json::array({"sms.send"}));

  json rejected = admin_.call("nodes.reject", {{"requestId", pending[0]["requestId"]}});
  EXPECT_EQ(rejected["reapproval"], true);
  // No error reaches the node: it was never waiting on the decision.
  for (const auto& f : frames_before_pong(c, "after-reject")) {
    EXPECT_NE(f.value("type", ""), "error") << f.dump();
  }
  json described = admin_.call("nodes.describe", {{"node", "phone"}})["node"];
  EXPECT_EQ(described["commands"], json::array({"canvas.snapshot"}));
  EXPECT_EQ(described["declinedCommands"], json::array({"sms.send"}));
  try {
    invoke("phone", "sms.send");
    ADD_FAILURE() << "a declined command was invoked";
  } catch (const cli::OperatorError& e) {
    EXPECT_EQ(e.code, "UNAVAILABLE") << e.message;
  }

  c = node();
  hello_and_next(c, "phone", token, declared);
  EXPECT_EQ(c.call("health")["ok"], true);
  EXPECT_TRUE(admin_.call("nodes.pending")["pending"].empty()) << "declined, so not asked again";
}

}  // namespace
}  // namespace vespid::test
