// The conformance echo (echo_path): off unless configured; when on, every text and binary
// message comes back unchanged with its opcode, the host never hears of the connection, the
// message limit closes with 1009, and stop closes it with 1001 like any WebSocket.
#include <future>

#include "test_env.hpp"

namespace vespid::ws::testing {
namespace {

using nlohmann::json;

class EchoTest : public WsTest {};

std::string create_error(const std::string& config) {
  FakeHost host;
  std::string err;
  EXPECT_NE(host.create(config, &err), VSP_OK) << config;
  return err;
}

TEST_F(EchoTest, OffByDefault) {
  start();
  auto p = peer();
  const auto res = p->ws_handshake("/ws/echo");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(json::parse(res.body)["code"], "NOT_FOUND");
}

TEST_F(EchoTest, EchoesTextAndBinaryWithoutTheHost) {
  start({{"echo_path", "/ws/echo"}});
  auto p = peer();
  ASSERT_EQ(p->ws_handshake("/ws/echo").status, 101);
  ASSERT_FALSE(p->ws_send("not JSON at all"));
  EXPECT_EQ(p->ws_read(), "not JSON at all");
  EXPECT_FALSE(p->last_was_binary());
  const std::string bytes("\x00\xff\x80 binary", 10);
  ASSERT_FALSE(p->ws_send(bytes, true));
  EXPECT_EQ(p->ws_read(), bytes);
  EXPECT_TRUE(p->last_was_binary());
  EXPECT_TRUE(host_->conns().empty()) << "the echo is the transport's own";
  ASSERT_FALSE(p->ws_close());
}

TEST_F(EchoTest, TheMessageLimitClosesWith1009) {
  start({{"echo_path", "/ws/echo"}, {"max_message_bytes", 1024}});
  auto p = peer();
  ASSERT_EQ(p->ws_handshake("/ws/echo").status, 101);
  ASSERT_FALSE(p->ws_send(std::string(1024, 'a')));  // exactly the limit passes
  EXPECT_EQ(p->ws_read(), std::string(1024, 'a'));
  ASSERT_FALSE(p->ws_send(std::string(1025, 'b')));
  EXPECT_FALSE(p->ws_read());
  EXPECT_EQ(p->close_code(), 1009);
}

TEST_F(EchoTest, StopClosesWithGoingAway) {
  start({{"echo_path", "/ws/echo"}});
  auto p = peer();
  ASSERT_EQ(p->ws_handshake("/ws/echo").status, 101);
  auto reader = std::async(std::launch::async, [&] { return p->ws_read(); });
  EXPECT_TRUE(host_->stop());
  EXPECT_FALSE(reader.get());
  EXPECT_EQ(p->close_code(), 1001);
}

TEST_F(EchoTest, CountsAgainstMaxConnections) {
  start({{"echo_path", "/ws/echo"}, {"max_connections", 1}});
  auto p = peer();
  ASSERT_EQ(p->ws_handshake("/ws/echo").status, 101);
  auto second = peer();
  EXPECT_TRUE(second->wait_closed()) << "the one connection allowed is the echo";
}

TEST_F(EchoTest, ConfigErrors) {
  EXPECT_NE(create_error(R"({"echo_path":"ws/echo"})")
                .find("\"echo_path\" must be \"\" (off) or a path starting with '/'"),
            std::string::npos);
  EXPECT_NE(create_error(R"({"echo_path":true})").find("\"echo_path\""), std::string::npos);
  EXPECT_NE(create_error(R"({"echo_path":"/ws"})")
                .find("\"echo_path\" names a path that is already a route (path /ws (websocket "
                      "vespid.node.v1))"),
            std::string::npos);
}

}  // namespace
}  // namespace vespid::ws::testing
