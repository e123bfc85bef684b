// The ws plugin's conformance echo (instance config key echo_path) in the real gateway. Off, its
// path is a 404 like any unknown path; on, every text and binary message comes back unchanged
// with its opcode, a fragmented message comes back whole, and a message over max_message_bytes
// closes the connection with 1009: the framing stack an external suite (Autobahn) would test.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "gateway_process.hpp"
#include "temp_dir.hpp"
#include "web_test_client.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;

class WsEcho : public ::testing::Test {
 protected:
  // A gateway whose WebSocket instance lists its routes explicitly (as etc/vespid.json's do),
  // with `extra` added to its config.
  void start(const json& extra) {
    port_ = pick_free_port();
    json ws = {{"port", port_},
               {"routes",
                json::array({{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}},
                             {{"path", "/healthz"}, {"dialect", "rest.v1"}}})}};
    ws.update(extra);
    const json cfg = {
        {"plugins",
         {{"instances", json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                                     {{"name", "local"}, {"plugin", "unix"}},
                                     {{"name", "ws"}, {"plugin", "ws"}, {"config", ws}}})}}}};
    std::ofstream(dir_.file("cfg.json")) << cfg.dump();
    gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")});
    ASSERT_TRUE(gw_.wait_ready());
  }
  WebTarget target() const { return WebTarget{"127.0.0.1", port_}; }

  TempDir dir_;
  GatewayProcess gw_;
  int port_ = 0;
};

TEST_F(WsEcho, OffTheUpgradeIsRefusedAsAnUnknownPath) {
  start(json::object());
  WsClient c(target());
  json refusal;
  EXPECT_EQ(c.connect("/ws/echo", {}, &refusal), 404);
  EXPECT_EQ(refusal["code"], "NOT_FOUND") << refusal.dump();
  EXPECT_EQ(gw_.log_text().find("echo_path"), std::string::npos);
}

TEST_F(WsEcho, OnTextAndBinaryComeBackUnchanged) {
  start({{"echo_path", "/ws/echo"}});
  EXPECT_NE(gw_.log_text().find("echo_path is set: /ws/echo"), std::string::npos)
      << "the gateway warns that the echo is on";
  WsClient c(target());
  ASSERT_EQ(c.connect("/ws/echo"), 101);

  c.send_text("plain text, not a frame of any dialect");
  auto m = c.read_message();
  ASSERT_TRUE(m) << c.close_reason();
  EXPECT_FALSE(m->binary);
  EXPECT_EQ(m->data, "plain text, not a frame of any dialect");

  const std::string bytes("\x00\x01\xfe\xff not UTF-8 \xc3", 16);
  c.send_binary(bytes);
  m = c.read_message();
  ASSERT_TRUE(m) << c.close_reason();
  EXPECT_TRUE(m->binary);
  EXPECT_EQ(m->data, bytes);
}

TEST_F(WsEcho, OnAFragmentedMessageComesBackWhole) {
  start({{"echo_path", "/ws/echo"}});
  WsClient c(target());
  ASSERT_EQ(c.connect("/ws/echo"), 101);

  c.send_fragmented({"frag", "men", "ted ", "text"}, false);
  auto m = c.read_message();
  ASSERT_TRUE(m) << c.close_reason();
  EXPECT_FALSE(m->binary);
  EXPECT_EQ(m->data, "fragmented text");

  c.send_fragmented({std::string(3000, '\x01'), std::string(3000, '\x02')}, true);
  m = c.read_message();
  ASSERT_TRUE(m) << c.close_reason();
  EXPECT_TRUE(m->binary);
  EXPECT_EQ(m->data, std::string(3000, '\x01') + std::string(3000, '\x02'));
}

TEST_F(WsEcho, OnTextEndingInsideACharacterClosesWith1007) {
  start({{"echo_path", "/ws/echo"}});
  WsClient c(target());
  ASSERT_EQ(c.connect("/ws/echo"), 101);
  // "caf" and the first byte of a two-byte character, then an empty final frame: Beast 1.81
  // calls such a message done without its end-of-message UTF-8 check.
  c.send_fragmented({"caf\xc3", ""}, false);
  EXPECT_FALSE(c.read_message());
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.close_code(), 1007) << c.close_reason();
}

TEST_F(WsEcho, OnAMessageOverTheLimitClosesWith1009) {
  start({{"echo_path", "/ws/echo"}, {"max_message_bytes", 4096}});
  WsClient c(target());
  ASSERT_EQ(c.connect("/ws/echo"), 101);
  c.send_text(std::string(4096, 'a'));  // exactly the limit passes
  auto m = c.read_message();
  ASSERT_TRUE(m) << c.close_reason();
  EXPECT_EQ(m->data.size(), 4096u);

  // Over the limit, also when it arrives in pieces that are each small.
  c.send_fragmented({std::string(3000, 'b'), std::string(3000, 'b')}, false);
  EXPECT_FALSE(c.read_message());
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.close_code(), 1009) << c.close_reason();
}

TEST_F(WsEcho, AnEchoPathThatIsAlreadyARouteIsAConfigError) {
  port_ = pick_free_port();
  const json cfg = {
      {"plugins",
       {{"instances", json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                                   {{"name", "ws"},
                                    {"plugin", "ws"},
                                    {"config", {{"port", port_}, {"echo_path", "/ws"}}}}})}}}};
  std::ofstream(dir_.file("cfg.json")) << cfg.dump();
  gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")});
  EXPECT_NE(gw_.wait_exit(std::chrono::seconds(20)), 0);
  EXPECT_NE(gw_.log_text().find("\"echo_path\" names a path that is already a route"),
            std::string::npos)
      << gw_.log_text();
}

}  // namespace
}  // namespace vespid::test
