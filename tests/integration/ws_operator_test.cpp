// The ws plugin in the real gateway: REST requests reach the core as rest.v1, and operator.v1
// runs over a WebSocket whose bearer token is checked before the upgrade completes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "gateway_process.hpp"
#include "operator_client.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;

// A deliberately small HTTP/1.1 + WebSocket client on a raw socket: enough to see exactly what
// the gateway puts on the wire.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      ::close(std::exchange(fd_, -1));
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  void write_all(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  // Reads the status line and headers; returns the status code (0 on failure).
  int read_head(std::string* head = nullptr) {
    while (buf_.find("\r\n\r\n") == std::string::npos) {
      if (!fill()) return 0;
    }
    size_t end = buf_.find("\r\n\r\n") + 4;
    std::string h = buf_.substr(0, end);
    buf_.erase(0, end);
    if (head) *head = h;
    return std::atoi(h.substr(h.find(' ') + 1, 3).c_str());
  }

  // One HTTP request with a content-length response body.
  std::pair<int, json> request(const std::string& method, const std::string& path) {
    write_all(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
    std::string head;
    int status = read_head(&head);
    size_t cl = head.find("Content-Length: ");
    if (cl == std::string::npos) cl = head.find("content-length: ");
    size_t len = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 16));
    while (buf_.size() < len && fill()) {
    }
    std::string body = buf_.substr(0, len);
    buf_.erase(0, len);
    return {status, body.empty() ? json() : json::parse(body)};
  }

  int upgrade(const std::string& path, const std::string& bearer, json* refusal = nullptr) {
    std::string req =
        "GET " + path +
        " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    if (!bearer.empty()) req += "Authorization: Bearer " + bearer + "\r\n";
    write_all(req + "\r\n");
    std::string head;
    int status = read_head(&head);
    if (status != 101 && refusal != nullptr) {
      size_t cl = head.find("ontent-Length: ");
      size_t len = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 15));
      while (buf_.size() < len && fill()) {
      }
      *refusal = json::parse(buf_.substr(0, len));
    }
    return status;
  }

  void send_text(const std::string& text) {
    std::string f;
    f.push_back(static_cast<char>(0x81));
    if (text.size() < 126) {
      f.push_back(static_cast<char>(0x80 | text.size()));
    } else {
      f.push_back(static_cast<char>(0x80 | 126));
      f.push_back(static_cast<char>(text.size() >> 8));
      f.push_back(static_cast<char>(text.size() & 0xff));
    }
    const char mask[4] = {0x12, 0x34, 0x56, 0x78};
    f.append(mask, 4);
    for (size_t i = 0; i < text.size(); ++i) f.push_back(static_cast<char>(text[i] ^ mask[i % 4]));
    write_all(f);
  }

  // The next text message (server frames are unmasked); skips pings.
  std::optional<json> read_json() {
    for (;;) {
      while (buf_.size() < 2) {
        if (!fill()) return std::nullopt;
      }
      unsigned op = static_cast<unsigned char>(buf_[0]) & 0x0f;
      size_t len = static_cast<unsigned char>(buf_[1]) & 0x7f, hdr = 2;
      if (len == 126) {
        while (buf_.size() < 4) {
          if (!fill()) return std::nullopt;
        }
        len = (static_cast<unsigned char>(buf_[2]) << 8) | static_cast<unsigned char>(buf_[3]);
        hdr = 4;
      }
      while (buf_.size() < hdr + len) {
        if (!fill()) return std::nullopt;
      }
      std::string payload = buf_.substr(hdr, len);
      buf_.erase(0, hdr + len);
      if (op == 0x1) return json::parse(payload);
      if (op == 0x8) return std::nullopt;
    }
  }

  json call(const std::string& method, const json& params = json::object()) {
    send_text(json{{"type", "req"}, {"id", ++id_}, {"method", method}, {"params", params}}.dump());
    auto r = read_json();
    return r ? *r : json();
  }

 private:
  bool fill() {
    char tmp[4096];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string buf_;
  int id_ = 0;
};

class WsOperator : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = pick_free_port();
    json cfg = {
        {"plugins",
         {{"instances",
           json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                        {{"name", "local"}, {"plugin", "unix"}},
                        {{"name", "http"}, {"plugin", "ws"}, {"config", {{"port", port_}}}}})}}}};
    std::ofstream(dir_.file("cfg.json")) << cfg.dump();
    gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")});
    ASSERT_TRUE(gw_.wait_ready());
  }
  TempDir dir_;
  GatewayProcess gw_;
  int port_ = 0;
};

TEST_F(WsOperator, HealthzAndUnknownRoutesAreAnsweredByTheCore) {
  RawClient c(port_);
  ASSERT_TRUE(c.ok());
  auto [status, body] = c.request("GET", "/healthz");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body["ok"], true);
  EXPECT_TRUE(body.contains("revision"));
  auto [s404, b404] = c.request("GET", "/v1/nothing-here");
  EXPECT_EQ(s404, 404);
  EXPECT_EQ(b404["code"], "NOT_FOUND");
  auto [s405, b405] = c.request("POST", "/healthz");
  EXPECT_EQ(s405, 405) << b405.dump();
  auto [outside, ob] = c.request("GET", "/no/route/at/all");
  EXPECT_EQ(outside, 404) << "the transport's own 404 for paths no route covers";
}

TEST_F(WsOperator, AnonymousWebSocketMayOnlyAuthenticate) {
  RawClient c(port_);
  ASSERT_EQ(c.upgrade("/ws/operator", ""), 101);
  EXPECT_EQ(c.call("health")["payload"]["ok"], true);
  json r = c.call("orgs.list");
  EXPECT_EQ(r["error"]["code"], "UNAUTHORIZED");
}

TEST_F(WsOperator, BearerTokensAreCheckedBeforeTheUpgrade) {
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  admin.call("orgs.create", {{"name", "acme"}});
  admin.call("users.create", {{"name", "alice"}, {"org", "acme"}});
  std::string token = admin.call("tokens.create", {{"user", "alice"}, {"org", "acme"}})["token"];

  RawClient good(port_);
  ASSERT_EQ(good.upgrade("/ws/operator", token), 101);
  json who = good.call("whoami");
  EXPECT_EQ(who["payload"]["role"], "operator");
  json orgs = good.call("orgs.list");
  ASSERT_EQ(orgs["payload"]["orgs"].size(), 1u);
  EXPECT_EQ(orgs["payload"]["orgs"][0]["name"], "acme");

  RawClient bad(port_);
  json refusal;
  EXPECT_EQ(bad.upgrade("/ws/operator", token + "x", &refusal), 401)
      << "a wrong token is refused with 401 before the socket is upgraded";
  EXPECT_EQ(refusal["code"], "UNAUTHORIZED");
}

}  // namespace
}  // namespace vespid::test
