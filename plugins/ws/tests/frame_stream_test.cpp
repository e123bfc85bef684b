// The plugin's own WebSocket framing (FrameStream), byte by byte: a raw client writes frames as
// a peer could, including the ones a well-behaved client library never would, and reads the
// server's frames off the socket. What Beast's client hides (pongs, the close code the server
// echoes, the frame header's length form) is asserted here.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>

#include "test_env.hpp"

namespace vespid::ws::testing {
namespace {

using nlohmann::json;

struct Frame {
  bool fin = true;
  uint8_t opcode = 0;
  std::string payload;
  std::size_t header_bytes = 0;
};

// A client frame: masked (unless told not to), FIN and opcode as given.
std::string frame(uint8_t opcode, const std::string& payload, bool fin = true, bool masked = true,
                  uint8_t extra_bits = 0) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | extra_bits | opcode));
  const uint8_t mask_bit = masked ? 0x80 : 0;
  const std::size_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  if (!masked) return out + payload;
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  out.append(mask, 4);
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(payload[i] ^ mask[i & 3]));
  return out;
}

std::string close_payload(uint16_t code, const std::string& reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  return p + reason;
}

// A blocking loopback client that speaks raw bytes, with a receive timeout.
class RawClient {
 public:
  explicit RawClient(uint16_t port) : fd_(connect_loopback(port)), connected_(fd_ >= 0) {}
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool connected() const { return connected_; }

  bool write(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  // The response head up to its blank line, or "" on EOF / timeout.
  std::string read_head() {
    std::string head;
    while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
      char c;
      if (::recv(fd_, &c, 1, 0) != 1) return {};
      head.push_back(c);
    }
    return head;
  }

  std::string upgrade(const std::string& extra_headers = {}) {
    write(
        "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        extra_headers + "\r\n");
    return read_head();
  }

  // The next server frame; nullopt on EOF or timeout.
  std::optional<Frame> read_frame() {
    uint8_t h[2];
    if (!read_exact(h, 2)) return std::nullopt;
    Frame f;
    f.fin = (h[0] & 0x80) != 0;
    f.opcode = h[0] & 0x0F;
    if ((h[1] & 0x80) != 0) return std::nullopt;  // a server never masks
    uint64_t len = h[1] & 0x7F;
    f.header_bytes = 2;
    if (len == 126) {
      uint8_t b[2];
      if (!read_exact(b, 2)) return std::nullopt;
      len = (uint64_t{b[0]} << 8) | b[1];
      f.header_bytes += 2;
    } else if (len == 127) {
      uint8_t b[8];
      if (!read_exact(b, 8)) return std::nullopt;
      len = 0;
      for (uint8_t x : b) len = (len << 8) | x;
      f.header_bytes += 8;
    }
    f.payload.resize(len);
    if (len > 0 && !read_exact(reinterpret_cast<uint8_t*>(f.payload.data()), len)) {
      return std::nullopt;
    }
    return f;
  }

  // True when the server ends the connection (EOF or reset) before the timeout.
  bool closed_by_server() {
    char c;
    for (;;) {
      const ssize_t n = ::recv(fd_, &c, 1, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  bool read_exact(uint8_t* p, std::size_t n) {
    std::size_t off = 0;
    while (off < n) {
      const ssize_t r = ::recv(fd_, p + off, n - off, 0);
      if (r <= 0) return false;
      off += static_cast<std::size_t>(r);
    }
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
};

uint16_t close_code_of(const Frame& f) {
  if (f.payload.size() < 2) return 0;
  return static_cast<uint16_t>((static_cast<uint8_t>(f.payload[0]) << 8) |
                               static_cast<uint8_t>(f.payload[1]));
}

class FrameStreamTest : public WsTest {
 protected:
  void SetUp() override {
    WsTest::SetUp();
    host_->on_message = [this](FakeConn& c, const std::string& m) { host_->send(c, "echo:" + m); };
  }

  // A raw client past the 101.
  std::unique_ptr<RawClient> open() {
    auto c = std::make_unique<RawClient>(port_);
    EXPECT_TRUE(c->connected());
    const std::string head = c->upgrade("Sec-WebSocket-Version: 13\r\n");
    EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
    // RFC 6455's sample key and the accept value it gives.
    EXPECT_NE(head.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << head;
    return c;
  }

  // Sends `bytes`, then expects our close frame with `code`, the end of the connection, and
  // the host told of a protocol error.
  void expect_failed_with(const std::string& bytes, uint16_t code) {
    auto c = open();
    ASSERT_TRUE(c->write(bytes));
    auto f = c->read_frame();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->opcode, 8);
    EXPECT_EQ(close_code_of(*f), code);
    EXPECT_TRUE(c->closed_by_server());  // the server's half close...
    c.reset();                           // ...and ours, which ends its teardown
    FakeConn* conn = host_->conns().back();
    ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*conn) == 1; }));
    EXPECT_EQ(host_->closed_status(*conn), VSP_E_INVALID);
    EXPECT_TRUE(host_->received(*conn).empty());
  }
};

TEST_F(FrameStreamTest, FragmentsWithAPingBetweenAreOneMessageAndThePingIsAnswered) {
  start();
  auto c = open();
  ASSERT_TRUE(c->write(frame(1, "{\"a\":", false) + frame(9, "hi") + frame(0, "1}")));
  auto pong = c->read_frame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, 10);
  EXPECT_EQ(pong->payload, "hi");
  auto echo = c->read_frame();
  ASSERT_TRUE(echo);
  EXPECT_TRUE(echo->fin);
  EXPECT_EQ(echo->opcode, 1);
  EXPECT_EQ(echo->payload, "echo:{\"a\":1}");
}

TEST_F(FrameStreamTest, MessagesPackedIntoOneWriteOrSplitByteByByteArriveInOrder) {
  start();
  auto c = open();
  ASSERT_TRUE(c->write(frame(1, "one") + frame(1, "") + frame(1, "three")));
  const std::string slow = frame(1, std::string(300, 's'));  // a 16-bit length, one byte a write
  for (char b : slow) ASSERT_TRUE(c->write(std::string(1, b)));
  for (const std::string expected : {"echo:one", "echo:", "echo:three"}) {
    auto f = c->read_frame();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->payload, expected);
  }
  auto f = c->read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "echo:" + std::string(300, 's'));
  EXPECT_EQ(f->header_bytes, 4u);  // 126 and a 16-bit length
}

TEST_F(FrameStreamTest, ALargeMessageArrivesWholeAndGoesOutAsOneFrame) {
  start({{"max_message_bytes", 1 << 20}});
  auto c = open();
  std::string big(200 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(c->write(frame(1, big)));
  auto f = c->read_frame();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->fin);
  EXPECT_EQ(f->header_bytes, 10u);  // 127 and a 64-bit length
  EXPECT_EQ(f->payload, "echo:" + big);
}

TEST_F(FrameStreamTest, TextSplitInsideACharacterAcrossFragmentsIsValid) {
  start();
  auto c = open();
  const std::string text = "\"\xE2\x82\xAC\"";  // "€" as JSON, split inside the euro sign
  ASSERT_TRUE(c->write(frame(1, text.substr(0, 2), false) + frame(0, text.substr(2))));
  auto f = c->read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "echo:" + text);
}

TEST_F(FrameStreamTest, PeerCloseIsAnsweredWithItsCodeAndReported) {
  start();
  auto c = open();
  ASSERT_TRUE(c->write(frame(8, close_payload(4000, "bye"))));
  auto f = c->read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 8);
  EXPECT_EQ(close_code_of(*f), 4000);
  EXPECT_TRUE(c->closed_by_server());
  c.reset();
  FakeConn* conn = host_->conns().back();
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*conn) == 1; }));
  EXPECT_EQ(host_->closed_status(*conn), VSP_OK);
  EXPECT_NE(host_->closed_reason(*conn).find("code 4000: bye"), std::string::npos)
      << host_->closed_reason(*conn);
}

TEST_F(FrameStreamTest, AnAnswerRacingThePeersCloseLeavesThePeersCloseAsTheReason) {
  // The host's echo of the first message is sent while (or after) the close behind it is read:
  // it goes out before our close frame or not at all, and the host hears of the peer's close,
  // not of a write that failed because of it.
  start();
  for (int i = 0; i < 20; ++i) {
    auto c = open();
    ASSERT_TRUE(c->write(frame(1, "{}") + frame(8, close_payload(1000))));
    for (;;) {
      auto f = c->read_frame();
      ASSERT_TRUE(f);
      if (f->opcode == 8) break;
      EXPECT_EQ(f->payload, "echo:{}");
    }
    c.reset();
    FakeConn* conn = host_->conns().back();
    ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*conn) == 1; }));
    EXPECT_EQ(host_->closed_status(*conn), VSP_OK) << host_->closed_reason(*conn);
    EXPECT_NE(host_->closed_reason(*conn).find("code 1000"), std::string::npos)
        << host_->closed_reason(*conn);
  }
}

TEST_F(FrameStreamTest, AnEmptyCloseIsAnsweredWith1000) {
  start();
  auto c = open();
  ASSERT_TRUE(c->write(frame(8, "")));
  auto f = c->read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 8);
  EXPECT_EQ(close_code_of(*f), 1000);
  EXPECT_TRUE(c->closed_by_server());
}

TEST_F(FrameStreamTest, ProtocolViolationsCloseWith1002) {
  start();
  const std::string non_minimal = std::string("\x81\xFE\x00\x05", 4) + "abcd" + "hello";
  const std::pair<const char*, std::string> cases[] = {
      {"unmasked frame", frame(1, "{}", true, false)},
      {"reserved bit", frame(1, "{}", true, true, 0x40)},
      {"unknown opcode", frame(3, "{}")},
      {"fragmented ping", frame(9, "x", false)},
      {"ping over 125 bytes", frame(9, std::string(126, 'p'))},
      {"continuation without a message", frame(0, "{}")},
      {"new message inside one", frame(1, "[", false) + frame(1, "]")},
      {"non-minimal length", non_minimal},
      {"one-byte close", frame(8, "x")},
      {"close code 1005", frame(8, close_payload(1005))},
      {"close code 2000", frame(8, close_payload(2000))},
      {"close reason not UTF-8", frame(8, close_payload(1000, "\xC3"))},
  };
  for (const auto& [what, bytes] : cases) {
    SCOPED_TRACE(what);
    expect_failed_with(bytes, 1002);
  }
}

TEST_F(FrameStreamTest, TextThatIsNotUtf8ClosesWith1007EvenAcrossFragments) {
  start();
  expect_failed_with(frame(1, "\"\xE2\x82", false) + frame(0, "A\""), 1007);
  expect_failed_with(frame(1, "\"\xFF\""), 1007);
}

TEST_F(FrameStreamTest, AMessageEndingInsideACharacterIsRefusedInTheHostsDialect) {
  // Not a framing failure: the host hears of it (and answers in its own form) whether the last
  // frame holds the cut character or is empty.
  start();
  for (const std::string& bytes :
       {frame(1, "\"\xE2\x82"), frame(1, "\"\xE2\x82", false) + frame(0, "")}) {
    auto c = open();
    ASSERT_TRUE(c->write(bytes));
    auto answer = c->read_frame();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->opcode, 1);
    auto closing = c->read_frame();
    ASSERT_TRUE(closing);
    EXPECT_EQ(closing->opcode, 8);
    EXPECT_EQ(close_code_of(*closing), 1008);
    FakeConn* conn = host_->conns().back();
    const auto errors = host_->protocol_errors(*conn);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].first, VSP_E_INVALID);
    EXPECT_NE(errors[0].second.find("ends inside a character"), std::string::npos);
    EXPECT_TRUE(host_->received(*conn).empty());
  }
}

TEST_F(FrameStreamTest, UpgradeWithoutVersion13IsRefusedInTheApisForm) {
  start();
  RawClient old(port_);
  ASSERT_TRUE(old.connected());
  const std::string head = old.upgrade("Sec-WebSocket-Version: 8\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 426", 0), 0u) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Version: 13"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: application/json"), std::string::npos) << head;

  RawClient none(port_);
  ASSERT_TRUE(none.connected());
  EXPECT_EQ(none.upgrade().rfind("HTTP/1.1 400", 0), 0u);
}

}  // namespace
}  // namespace vespid::ws::testing
