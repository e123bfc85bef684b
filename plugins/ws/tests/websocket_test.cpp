// WebSocket side of the ws transport: the held handshake (admit, refuse, time out), what the
// host learns about the peer, messages both ways, framing errors, queues, pings, close codes
// and stop.
#include <boost/beast/websocket/error.hpp>
#include <future>
#include <thread>

#include "test_env.hpp"

namespace vespid::ws::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class WebSocketTest : public WsTest {
 protected:
  void echo() {
    host_->on_message = [this](FakeConn& c, const std::string& m) { host_->send(c, "echo:" + m); };
  }
};

TEST_F(WebSocketTest, UpgradeWithBearerIsHeldUntilAdmittedThenMessagesFlow) {
  host_->admission = FakeHost::Admission::Manual;
  echo();
  start();
  auto p = peer();
  auto handshake = std::async(std::launch::async, [&] {
    return p->ws_handshake(
        "/ws?x=1&y=%20",
        {{"Authorization", "Bearer org1.s3cret"}, {"X-Org-Id", "org1"}, {"X-Custom", "V"}});
  });
  FakeConn* c = host_->wait_conn(1);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(handshake.wait_for(100ms), std::future_status::timeout) << "not held";
  EXPECT_EQ(c->info_size, sizeof(vsp_conn_info));
  EXPECT_EQ(c->dialect, "vespid.node.v1");
  EXPECT_EQ(c->flags, VSP_CONN_ADMISSION);
  EXPECT_EQ(c->bearer, "org1.s3cret");
  EXPECT_EQ(c->org_hint, "org1");
  EXPECT_EQ(c->path, "/ws");
  EXPECT_EQ(c->query, "x=1&y=%20");
  EXPECT_EQ(c->peer.rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(c->local, "127.0.0.1:" + std::to_string(port_));
  const json headers = json::parse(c->headers_json);
  EXPECT_EQ(headers["authorization"], "Bearer org1.s3cret");
  EXPECT_EQ(headers["x-custom"], "V");
  EXPECT_EQ(headers["upgrade"], "websocket");
  EXPECT_TRUE(headers.contains("sec-websocket-key"));
  for (const auto& [name, value] : headers.items()) {
    for (char ch : name) EXPECT_FALSE(ch >= 'A' && ch <= 'Z') << name;
  }

  host_->admit(*c, VSP_OK, 101);
  ASSERT_EQ(handshake.get().status, 101);
  ASSERT_FALSE(p->ws_send("hello"));
  EXPECT_EQ(p->ws_read(), "echo:hello");
  EXPECT_EQ(host_->send(*c, R"({"type":"push"})"), VSP_OK);
  EXPECT_EQ(p->ws_read(), R"({"type":"push"})");
  EXPECT_EQ(host_->received(*c), std::vector<std::string>{"hello"});

  // A normal close from the host: 1000 with its reason.
  host_->close(*c, VSP_OK, "bye");
  EXPECT_FALSE(p->ws_read());
  EXPECT_EQ(p->last_error(), boost::beast::websocket::error::closed);
  EXPECT_EQ(p->close_code(), 1000);
  EXPECT_EQ(p->close_reason(), "bye");
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*c) == 1; }));
  EXPECT_EQ(host_->closed_status(*c), VSP_OK);
}

TEST_F(WebSocketTest, OrgHintFromQueryAndDialectsPerRoute) {
  start();
  auto a = ws_peer("/ws/client?orgId=org%202&other=1");
  auto b = ws_peer("/ws/operator");
  auto conns = host_->conns();
  ASSERT_EQ(conns.size(), 2u);
  EXPECT_EQ(conns[0]->dialect, "vespid.client.v1");
  EXPECT_EQ(conns[0]->org_hint, "org 2");
  EXPECT_FALSE(conns[0]->bearer);
  EXPECT_EQ(conns[1]->dialect, "operator.v1");
  EXPECT_FALSE(conns[1]->org_hint);
  EXPECT_EQ(conns[1]->query, "");
}

TEST_F(WebSocketTest, RefusedAdmissionAnswersWithTheHostsStatusAndBody) {
  host_->admission = FakeHost::Admission::RefuseInline;
  start();
  auto p = peer();
  auto res = p->ws_handshake("/ws", {{"Authorization", "Bearer wrong"}});
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.headers["content-type"], "application/json");
  EXPECT_EQ(json::parse(res.body), json::parse(host_->refuse_body));
  FakeConn* c = host_->wait_conn(1);
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*c) == 1; }));
  EXPECT_EQ(host_->closed_status(*c), VSP_E_PERMISSION);
  EXPECT_TRUE(host_->received(*c).empty());
}

TEST_F(WebSocketTest, AdmissionTimeoutIs503AndALateAdmitIsIgnored) {
  host_->admission = FakeHost::Admission::Manual;
  start({{"handshake_timeout_ms", 200}});
  auto p = peer();
  auto res = p->ws_handshake("/ws");
  EXPECT_EQ(res.status, 503);
  EXPECT_NE(json::parse(res.body)["message"].get<std::string>().find("handshake_timeout_ms (200)"),
            std::string::npos);
  FakeConn* c = host_->wait_conn(1);
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*c) == 1; }));
  EXPECT_EQ(host_->closed_status(*c), VSP_E_CLOSED);
  host_->admit(*c, VSP_OK, 101);  // the fake core, like the real one, drops it once closed
}

TEST_F(WebSocketTest, AdmitRacingTheDeadlineEndsExactlyOnce) {
  host_->admission = FakeHost::Admission::Manual;
  echo();
  start({{"handshake_timeout_ms", 60}});
  for (int i = 0; i < 8; ++i) {
    auto p = peer();
    auto handshake = std::async(std::launch::async, [&] { return p->ws_handshake("/ws"); });
    FakeConn* c = host_->wait_conn(static_cast<std::size_t>(i) + 1);
    ASSERT_NE(c, nullptr);
    std::this_thread::sleep_for(std::chrono::microseconds(55000 + i * 2000));
    std::thread admitter([&] { host_->admit(*c, VSP_OK, 101); });
    const auto res = handshake.get();
    admitter.join();
    ASSERT_TRUE(res.status == 101 || res.status == 503) << res.status;
    if (res.status == 101) {
      ASSERT_FALSE(p->ws_send("x"));
      EXPECT_EQ(p->ws_read(), "echo:x");
      ASSERT_FALSE(p->ws_close());
    }
    ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*c) == 1; }));
  }
  host_->run_for(50ms);
  for (auto* c : host_->conns()) EXPECT_EQ(host_->closed_count(*c), 1);
}

TEST_F(WebSocketTest, BinaryFrameIsAProtocolError) {
  start();
  auto p = ws_peer();
  ASSERT_FALSE(p->ws_send(std::string("\x01\x02", 2), true));
  auto msg = p->ws_read();  // the host's answer in its dialect...
  ASSERT_TRUE(msg) << p->last_error().message();
  EXPECT_EQ(json::parse(*msg)["message"], "binary frames are not supported; send JSON text");
  EXPECT_FALSE(p->ws_read());  // ...then its close
  EXPECT_EQ(p->close_code(), 1008);
  EXPECT_EQ(p->close_reason(), "binary frames are not supported; send JSON text");
  FakeConn* c = host_->conns()[0];
  auto errors = host_->protocol_errors(*c);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].first, VSP_E_INVALID);
  EXPECT_TRUE(host_->received(*c).empty());
}

TEST_F(WebSocketTest, OversizedMessageIsAProtocolErrorAndClosesWith1009) {
  echo();
  start({{"max_message_bytes", 1024}});
  auto p = ws_peer();
  ASSERT_FALSE(p->ws_send(std::string(1024, 'a')));  // exactly the limit passes
  EXPECT_EQ(p->ws_read()->size(), 5u + 1024u);
  ASSERT_FALSE(p->ws_send(std::string(100000, 'b')));
  auto msg = p->ws_read();
  ASSERT_TRUE(msg) << p->last_error().message();
  EXPECT_EQ(json::parse(*msg)["message"], "message exceeds max_message_bytes (1024)");
  EXPECT_FALSE(p->ws_read());
  EXPECT_EQ(p->close_code(), 1009);
  FakeConn* c = host_->conns()[0];
  auto errors = host_->protocol_errors(*c);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].first, VSP_E_OVERFLOW);
  EXPECT_EQ(host_->received(*c).size(), 1u);
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*c) == 1; }));
  EXPECT_EQ(host_->closed_status(*c), VSP_E_OVERFLOW);
}

TEST_F(WebSocketTest, InvalidUtf8IsAProtocolError) {
  start();
  auto p = ws_peer();
  ASSERT_FALSE(p->ws_send(std::string("{\"a\":\"\xff\xfe\"}")));
  EXPECT_FALSE(p->ws_read());
  EXPECT_EQ(p->close_code(), 1007);
  FakeConn* c = host_->conns()[0];
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*c) == 1; }));
  auto errors = host_->protocol_errors(*c);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            std::make_pair(VSP_E_INVALID, std::string("text message is not valid UTF-8")));
}

TEST_F(WebSocketTest, SendsFromAnotherThreadArriveInOrder) {
  start();
  auto p = ws_peer();
  FakeConn* c = host_->conns()[0];
  std::thread sender([&] {
    for (int i = 0; i < 200; ++i) EXPECT_EQ(host_->send(*c, numbered("t", i)), VSP_OK);
  });
  for (int i = 0; i < 200; ++i) {
    auto m = p->ws_read();
    ASSERT_TRUE(m) << p->last_error().message();
    ASSERT_EQ(*m, numbered("t", i));
  }
  sender.join();
}

TEST_F(WebSocketTest, ManySendsInOneTurnArriveInOrder) {
  host_->on_message = [this](FakeConn& c, const std::string&) {
    for (int i = 0; i < 1000; ++i) host_->send(c, numbered("m", i));
  };
  start();
  auto p = ws_peer();
  ASSERT_FALSE(p->ws_send("burst"));
  for (int i = 0; i < 1000; ++i) {
    auto m = p->ws_read();
    ASSERT_TRUE(m) << p->last_error().message();
    ASSERT_EQ(*m, numbered("m", i));
  }
}

TEST_F(WebSocketTest, BusyThenWritableThenOverflowCloses) {
  // Sends made on the I/O thread (inside conn_recv) queue up until it is free to write, so the
  // queue's accounting is deterministic: 64 KiB queue, 20 000-byte messages.
  std::vector<int> codes;
  std::atomic<int> want{0};
  host_->on_message = [&](FakeConn& c, const std::string&) {
    for (int i = 0; i < want; ++i) codes.push_back(host_->send(c, std::string(20000, 'q')));
  };
  start({{"send_queue_bytes", 65536}});
  auto p = ws_peer();
  FakeConn* c = host_->conns()[0];

  want = 3;
  ASSERT_FALSE(p->ws_send("go"));
  ASSERT_TRUE(host_->run_until([&] { return host_->received(*c).size() == 1; }));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(p->ws_read()->size(), 20000u);
  EXPECT_EQ(codes, (std::vector<int>{VSP_OK, VSP_E_BUSY, VSP_E_BUSY}));
  ASSERT_TRUE(host_->run_until([&] { return host_->writable_calls(*c) == 1; }));

  codes.clear();
  want = 4;
  ASSERT_FALSE(p->ws_send("go"));
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*c) == 1; }));
  EXPECT_EQ(codes, (std::vector<int>{VSP_OK, VSP_E_BUSY, VSP_E_BUSY, VSP_E_OVERFLOW}));
  EXPECT_EQ(host_->closed_status(*c), VSP_E_OVERFLOW);
  EXPECT_EQ(host_->closed_reason(*c), "send queue exceeded send_queue_bytes (65536)");
  EXPECT_TRUE(p->wait_closed());
}

TEST_F(WebSocketTest, SilentPeerIsPingedThenClosedAndALivelyOneIsNot) {
  start({{"ping_interval_ms", 100}});
  auto silent = ws_peer();
  auto lively = ws_peer();
  auto conns = host_->conns();
  // The lively peer reads (so it answers pings) and gets a message after six intervals.
  std::thread later([&] {
    std::this_thread::sleep_for(600ms);
    host_->send(*conns[1], "still here");
  });
  EXPECT_EQ(lively->ws_read(2s), "still here");
  later.join();
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*conns[0]) == 1; }, 2s));
  EXPECT_NE(host_->closed_reason(*conns[0]).find("ping_interval_ms = 100"), std::string::npos);
  EXPECT_EQ(host_->closed_count(*conns[1]), 0);
}

TEST_F(WebSocketTest, CloseFlushesQueuedMessagesFirstAndTruncatesTheReason) {
  start();
  auto p = ws_peer();
  FakeConn* c = host_->conns()[0];
  EXPECT_EQ(host_->send(*c, "last words"), VSP_OK);
  std::string reason;
  for (int i = 0; i < 100; ++i) reason += "\xc3\xa9";  // 200 bytes of 'é'
  host_->close(*c, VSP_E_INVALID, reason.c_str());
  EXPECT_EQ(host_->send(*c, "too late"), VSP_E_CLOSED);
  EXPECT_EQ(p->ws_read(), "last words");
  EXPECT_FALSE(p->ws_read());
  EXPECT_EQ(p->close_code(), 1008);
  EXPECT_EQ(p->close_reason(), reason.substr(0, 122));
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*c) == 1; }));
  EXPECT_EQ(host_->closed_status(*c), VSP_E_INVALID);
}

TEST_F(WebSocketTest, PeerCloseIsReportedOnce) {
  start();
  auto p = ws_peer();
  FakeConn* c = host_->conns()[0];
  ASSERT_FALSE(p->ws_close(1000));
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*c) == 1; }));
  EXPECT_EQ(host_->closed_status(*c), VSP_OK);
  EXPECT_NE(host_->closed_reason(*c).find("code 1000"), std::string::npos);
}

TEST_F(WebSocketTest, StopClosesWithGoingAwayAndWaitsForEveryConnection) {
  start();
  auto p = ws_peer();
  auto idle_http = peer();
  ASSERT_TRUE(idle_http->request("GET", "/healthz"));
  FakeConn* c = host_->conns()[0];
  auto reader = std::async(std::launch::async, [&] { return p->ws_read(); });
  EXPECT_TRUE(host_->stop());
  EXPECT_FALSE(reader.get());
  EXPECT_EQ(p->close_code(), 1001);
  for (auto* conn : host_->conns()) EXPECT_EQ(host_->closed_count(*conn), 1);
  EXPECT_EQ(host_->closed_status(*c), VSP_E_CLOSED);
  EXPECT_TRUE(idle_http->wait_closed());
}

TEST_F(WebSocketTest, RefusedConnOpenIs503) {
  start();
  host_->refuse_opens = true;
  auto p = peer();
  auto res = p->ws_handshake("/ws");
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(json::parse(res.body)["message"], "too many connections (refused by the test)");
}

TEST_F(WebSocketTest, PermessageDeflateWhenConfigured) {
  echo();
  start({{"permessage_deflate", true}, {"max_message_bytes", 4096}});
  auto p = peer();
  p->enable_deflate();
  const auto res = p->ws_handshake("/ws");
  ASSERT_EQ(res.status, 101);
  EXPECT_NE(res.headers.at("sec-websocket-extensions").find("permessage-deflate"),
            std::string::npos);
  const std::string text(4000, 'z');  // compresses to a few bytes; the limit counts it inflated
  ASSERT_FALSE(p->ws_send(text));
  EXPECT_EQ(p->ws_read(), "echo:" + text);
  ASSERT_FALSE(p->ws_send(std::string(5000, 'z')));
  auto msg = p->ws_read();
  ASSERT_TRUE(msg);
  EXPECT_EQ(json::parse(*msg)["message"], "message exceeds max_message_bytes (4096)");
}

TEST_F(WebSocketTest, SeveralThreadsServeConnections) {
  echo();
  start({{"threads", 3}});
  std::vector<std::unique_ptr<Peer>> peers;
  for (int i = 0; i < 6; ++i) peers.push_back(ws_peer());
  for (int i = 0; i < 6; ++i) {
    ASSERT_FALSE(peers[i]->ws_send(numbered("p", i)));
    EXPECT_EQ(peers[i]->ws_read(), numbered("echo:p", i));
  }
}

// ABI 1.6: each I/O thread registers with the host before it opens a connection, answers a
// wake-up with io_thread_run on itself (the fake host flags a run on another thread), and ends its
// registration when the transport stops.
TEST_F(WebSocketTest, EachIoThreadRegistersWithTheHostAndRunsWhatItIsWokenFor) {
  echo();
  start({{"threads", 3}});
  ASSERT_TRUE(host_->run_until([&] { return host_->io_threads() == 3; }));
  std::vector<std::unique_ptr<Peer>> peers;
  for (int i = 0; i < 6; ++i) peers.push_back(ws_peer());
  for (int i = 0; i < 6; ++i) {
    ASSERT_FALSE(peers[i]->ws_send(numbered("p", i)));
    EXPECT_EQ(peers[i]->ws_read(), numbered("echo:p", i));
  }
  for (FakeConn* c : host_->conns()) EXPECT_TRUE(c->opened_on_registered_thread);
  EXPECT_EQ(host_->wake_io_threads(), 3);
  EXPECT_TRUE(host_->run_until([&] { return host_->io_thread_runs() == 3; }));
  peers.clear();
  EXPECT_TRUE(host_->stop());
  EXPECT_EQ(host_->io_threads(), 0u);
  EXPECT_TRUE(host_->violations().empty());
}

}  // namespace
}  // namespace vespid::ws::testing
