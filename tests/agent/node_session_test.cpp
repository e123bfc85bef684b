// The bridge node's handshake without sockets: hello with the token, pairing on NOT_PAIRED,
// the token from pair-ok, stopping when a held token is refused or pairing is rejected.
#include "node_session.hpp"

#include <gtest/gtest.h>

#include "node_state.hpp"
#include "temp_dir.hpp"

using namespace vespid::agent;
using nlohmann::json;
using vespid::test::TempDir;

namespace {

NodeIdentity identity() {
  NodeIdentity id;
  id.node_id = "n-1";
  id.display_name = "lab";
  id.platform = "linux";
  id.version = "0.1.0";
  id.caps = {"system"};
  id.commands = {"system.run", "system.which"};
  return id;
}

json error(const std::string& code, const std::string& message = "") {
  return {{"type", "error"}, {"code", code}, {"message", message}};
}

TEST(NodeSession, FirstRunPairsOnTheSameSocketAndKeepsTheToken) {
  NodeSession s(identity(), "");
  auto open = s.on_open();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0]["type"], "hello");
  EXPECT_FALSE(open[0].contains("token"));
  EXPECT_EQ(open[0]["commands"], json::array({"system.run", "system.which"}));

  SessionStep step = s.on_frame(error("NOT_PAIRED", "node n-1 is not paired"));
  EXPECT_TRUE(step.pairing);
  ASSERT_EQ(step.send.size(), 1u);
  EXPECT_EQ(step.send[0]["type"], "pair-request");
  EXPECT_EQ(step.send[0]["nodeId"], "n-1");
  EXPECT_EQ(step.send[0]["displayName"], "lab");
  EXPECT_EQ(step.after, SessionStep::After::Continue);

  // Nobody decided in time: ask again and keep waiting.
  step = s.on_frame(error("UNAUTHORIZED", "pairing request expired without a decision"));
  ASSERT_EQ(step.send.size(), 1u);
  EXPECT_EQ(step.send[0]["type"], "pair-request");

  step = s.on_frame({{"type", "pair-ok"}, {"token", "tok"}});
  EXPECT_EQ(step.save_token, "tok");
  EXPECT_FALSE(s.authenticated());
  step = s.on_frame({{"type", "hello-ok"}, {"serverName", "gw"}});
  EXPECT_TRUE(step.authenticated);
  EXPECT_TRUE(s.authenticated());
  // The next connection says hello with it.
  EXPECT_EQ(s.on_open()[0]["token"], "tok");
}

TEST(NodeSession, ARefusedTokenStopsInsteadOfPairingAgain) {
  NodeSession s(identity(), "old");
  EXPECT_EQ(s.on_open()[0]["token"], "old");
  SessionStep step = s.on_frame(error("UNAUTHORIZED", "node \"n-1\" was revoked"));
  EXPECT_EQ(step.after, SessionStep::After::Stop);
  EXPECT_TRUE(step.send.empty()) << "no pair-request on its own";
  EXPECT_NE(step.message.find("was revoked"), std::string::npos);
}

TEST(NodeSession, ARejectedPairingStops) {
  NodeSession s(identity(), "");
  s.on_open();
  s.on_frame(error("NOT_PAIRED"));
  SessionStep step = s.on_frame(error("UNAUTHORIZED", "pairing was rejected by an operator"));
  EXPECT_EQ(step.after, SessionStep::After::Stop);
}

TEST(NodeSession, ADeletedNodeForgetsItsTokenAndPairsAgain) {
  NodeSession s(identity(), "old");
  s.on_open();
  SessionStep step = s.on_frame(error("NOT_PAIRED"));
  EXPECT_TRUE(step.forget_token);
  ASSERT_EQ(step.send.size(), 1u);
  EXPECT_EQ(step.send[0]["type"], "pair-request");
  EXPECT_FALSE(s.has_token());
}

TEST(NodeSession, PingsInvokesAndOtherErrors) {
  NodeSession s(identity(), "t");
  s.on_open();
  SessionStep ping = s.on_frame({{"type", "ping"}, {"id", "gw-1"}});
  ASSERT_EQ(ping.send.size(), 1u);
  EXPECT_EQ(ping.send[0], json({{"type", "pong"}, {"id", "gw-1"}}));
  EXPECT_FALSE(s.on_frame({{"type", "invoke"}, {"id", "i"}, {"command", "system.run"}}).invoke)
      << "no invokes before hello-ok";
  s.on_frame({{"type", "hello-ok"}});
  EXPECT_TRUE(s.on_frame({{"type", "invoke"}, {"id", "i"}, {"command", "system.run"}}).invoke);
  EXPECT_EQ(s.on_frame({{"type", "event"}, {"event", "tick"}, {"payloadJSON", "{\"ts\":1}"}}).after,
            SessionStep::After::Continue);
  EXPECT_EQ(s.on_frame(error("INVALID_REQUEST", "x")).after, SessionStep::After::Reconnect);
}

TEST(NodeState, ANewNodeGetsAnIdAndTheFileIsPrivate) {
  TempDir dir;
  const std::string path = dir.file("sub/node.json");
  NodeState s = load_node_state(path);
  EXPECT_EQ(s.node_id.size(), 36u);
  EXPECT_TRUE(s.token.empty());
  s.token = "secret";
  s.allow = {"echo"};
  s.gateway = NodeGateway{"127.0.0.1", 18790, true, std::string(64, 'a')};
  save_node_state(path, s);
  NodeState back = load_node_state(path);
  EXPECT_EQ(back.node_id, s.node_id);
  EXPECT_EQ(back.token, "secret");
  EXPECT_EQ(back.allow, s.allow);
  ASSERT_TRUE(back.gateway);
  EXPECT_EQ(back.gateway->tls_fingerprint, std::string(64, 'a'));
  EXPECT_NE(load_node_state(dir.file("other.json")).node_id, s.node_id);
}

TEST(NodeState, AMalformedFileIsRefusedNotReplaced) {
  TempDir dir;
  const std::string path = dir.file("node.json");
  save_node_state(path, NodeState{"n", "t", "", std::nullopt, {}});
  for (const char* text : {"not json", R"({"version":1})", R"({"version":2,"nodeId":"n"})",
                           R"({"nodeId":"n","allow":"echo"})",
                           R"({"nodeId":"n","gateway":{"tlsFingerprint":"xyz"}})"}) {
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(text, f);
    std::fclose(f);
    EXPECT_THROW(load_node_state(path), NodeStateError) << text;
  }
}

}  // namespace
