// TLS on the ws listener: https and wss on one port, verified against a CA made for the test;
// a client without that CA fails verification; the certificate may come from the gateway's
// tls.* config; renegotiation is refused.
#include "tls.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "test_env.hpp"

namespace vespid::ws::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A client on a blocking loopback socket (connect_loopback) that completes a handshake,
// verifying the server against `ca_file`; `configure` sets the rest of its context first.
class BlockingTlsClient {
 public:
  BlockingTlsClient(uint16_t port, const std::string& ca_file,
                    const std::function<void(SSL_CTX*)>& configure)
      : fd_(connect_loopback(port)), ctx_(::SSL_CTX_new(TLS_client_method())) {
    ::SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
    ::SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    configure(ctx_);
    ssl_ = ::SSL_new(ctx_);
    ::ERR_clear_error();
    handshaken_ = fd_ >= 0 && ::SSL_set_fd(ssl_, fd_) == 1 && ::SSL_connect(ssl_) == 1;
  }
  ~BlockingTlsClient() {
    ::ERR_clear_error();
    ::SSL_free(ssl_);
    ::SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  BlockingTlsClient(const BlockingTlsClient&) = delete;
  BlockingTlsClient& operator=(const BlockingTlsClient&) = delete;

  bool handshaken() const { return handshaken_; }
  SSL* ssl() const { return ssl_; }

 private:
  int fd_;
  SSL_CTX* ctx_;
  SSL* ssl_ = nullptr;
  bool handshaken_ = false;
};

// A TLS 1.2 client (TLS 1.3 has no renegotiation) asks for a renegotiation after its
// handshake. Returns the OpenSSL reason code the renegotiation ended with, 0 if it succeeded,
// or -1 if the first handshake failed.
int renegotiation_outcome(uint16_t port, const std::string& ca_file) {
  BlockingTlsClient client(
      port, ca_file, [](SSL_CTX* ctx) { ::SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION); });
  if (!client.handshaken()) return -1;
  ::ERR_clear_error();
  if (::SSL_renegotiate(client.ssl()) == 1 && ::SSL_do_handshake(client.ssl()) == 1) return 0;
  return ERR_GET_REASON(::ERR_peek_last_error());
}

// The TLS 1.3 suite a client offering `client_suites` (in its order of preference) ends up
// with; empty if the handshake failed.
std::string negotiated_suite(uint16_t port, const std::string& ca_file, const char* client_suites) {
  BlockingTlsClient client(port, ca_file, [&](SSL_CTX* ctx) {
    ::SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    ::SSL_CTX_set_ciphersuites(ctx, client_suites);
  });
  if (!client.handshaken()) return {};
  return ::SSL_CIPHER_get_name(::SSL_get_current_cipher(client.ssl()));
}

class TlsTest : public WsTest {
 protected:
  json tls_config() {
    const auto& f = tls_files();
    return {{"tls", true}, {"cert_file", f.cert_pem}, {"key_file", f.key_pem}};
  }
};

TEST_F(TlsTest, HttpsAndWssOnOneListenerVerifiedAgainstTheCa) {
  host_->on_message = [this](FakeConn& c, const std::string& m) { host_->send(c, "echo:" + m); };
  start(tls_config());
  auto ca = client_tls(tls_files().ca_pem);

  auto https = peer(ca);
  auto res = https->request("GET", "/healthz");
  ASSERT_TRUE(res) << https->last_error().message();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["path"], "/healthz");

  auto wss = peer(ca);
  ASSERT_EQ(wss->ws_handshake("/ws", {{"Authorization", "Bearer t"}}).status, 101);
  ASSERT_FALSE(wss->ws_send("over tls"));
  EXPECT_EQ(wss->ws_read(), "echo:over tls");

  auto conns = host_->conns();
  ASSERT_EQ(conns.size(), 2u);
  EXPECT_EQ(conns[0]->flags, VSP_CONN_TLS | VSP_CONN_REST_JSON_BODY | VSP_CONN_REST_RAW_BODY);
  EXPECT_EQ(conns[1]->flags, VSP_CONN_TLS | VSP_CONN_ADMISSION);
  EXPECT_EQ(conns[1]->bearer, "t");
  ASSERT_FALSE(wss->ws_close());
}

// A burst from the host goes out in gathered writes, several frames to a TLS record (and big
// messages across records): every message arrives whole and in order.
TEST_F(TlsTest, ABurstOfSmallAndLargeMessagesArrivesInOrderOverTls) {
  host_->on_message = [this](FakeConn& c, const std::string&) {
    for (int i = 0; i < 300; ++i) {
      host_->send(
          c, i % 50 == 0 ? std::string(40000, static_cast<char>('a' + i % 26)) : numbered("m", i));
    }
  };
  start(tls_config());
  auto wss = peer(client_tls(tls_files().ca_pem));
  ASSERT_EQ(wss->ws_handshake("/ws").status, 101);
  ASSERT_FALSE(wss->ws_send("burst"));
  for (int i = 0; i < 300; ++i) {
    auto m = wss->ws_read();
    ASSERT_TRUE(m) << i << ": " << wss->last_error().message();
    ASSERT_EQ(*m,
              i % 50 == 0 ? std::string(40000, static_cast<char>('a' + i % 26)) : numbered("m", i));
  }
}

// Pipelining over TLS, then a stop while both requests wait for the host: the read the session
// had outstanding is cancelled under TLS before the close_notify, and the answers owed still
// arrive in order.
TEST_F(TlsTest, PipelinedRequestsAndAStopOverTls) {
  std::mutex mu;
  std::vector<std::pair<FakeConn*, std::string>> held;
  host_->rest_responder = [&](FakeConn& c, const std::string& env) {
    std::lock_guard lock(mu);
    held.emplace_back(&c, read_rest_envelope(env)["path"].get<std::string>());
    return std::optional<std::string>();
  };
  auto count = [&] {
    std::lock_guard lock(mu);
    return held.size();
  };
  start(tls_config());
  auto p = peer(client_tls(tls_files().ca_pem));
  ASSERT_FALSE(
      p->write_raw("GET /v1/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(host_->run_until([&] { return count() == 2; }));
  std::atomic<bool> stopped{false};
  std::thread stopper([&] { stopped = host_->stop(); });
  std::this_thread::sleep_for(100ms);
  for (std::size_t i : {1u, 0u}) {
    std::lock_guard lock(mu);
    EXPECT_EQ(host_->send(*held[i].first, json{{"status", 200}, {"body", held[i].second}}.dump()),
              VSP_OK);
  }
  for (const char* path : {"/v1/1", "/v1/2"}) {
    auto res = p->read_response();
    ASSERT_TRUE(res) << p->last_error().message();
    EXPECT_EQ(res->body, path);
  }
  EXPECT_TRUE(p->wait_closed());
  p.reset();
  stopper.join();
  EXPECT_TRUE(stopped);
  for (FakeConn* c : host_->conns()) EXPECT_EQ(host_->closed_count(*c), 1);
}

TEST_F(TlsTest, ClientWithoutTheCaFailsVerification) {
  start(tls_config());
  Peer p(port_, client_tls(""));
  const auto ec = p.connect();
  ASSERT_TRUE(ec);
  EXPECT_NE(ec.message().find("certificate verify failed"), std::string::npos) << ec.message();
  EXPECT_TRUE(host_->conns().empty());
}

TEST_F(TlsTest, PlainHttpOnTheTlsPortGetsNothing) {
  start(tls_config());
  auto p = peer();
  EXPECT_FALSE(p->request("GET", "/healthz"));
  EXPECT_TRUE(host_->conns().empty());
}

TEST_F(TlsTest, CertificateFromTheGatewayConfig) {
  host_->config["tls.cert_file"] = json(tls_files().cert_pem).dump();
  host_->config["tls.key_file"] = json(tls_files().key_pem).dump();
  start({{"tls", true}});
  auto p = peer(client_tls(tls_files().ca_pem));
  auto res = p->request("GET", "/healthz");
  ASSERT_TRUE(res) << p->last_error().message();
  EXPECT_EQ(res->status, 200);
}

TEST_F(TlsTest, TheContextRefusesRenegotiation) {
  // The option itself: OpenSSL 3 also refuses a client's renegotiation by default (unless
  // SSL_OP_ALLOW_CLIENT_RENEGOTIATION), so only this test notices the option going missing there.
  const auto ctx = make_server_tls(tls_files().cert_pem, tls_files().key_pem);
  EXPECT_NE(::SSL_CTX_get_options(ctx->native_handle()) & SSL_OP_NO_RENEGOTIATION, 0u);
}

TEST_F(TlsTest, AClientAskingToRenegotiateIsRefused) {
  start(tls_config());
  // The server answers the second ClientHello with a no_renegotiation alert; the client gives up.
  EXPECT_EQ(renegotiation_outcome(port_, tls_files().ca_pem), SSL_R_NO_RENEGOTIATION);
  // The listener still serves.
  auto p = peer(client_tls(tls_files().ca_pem));
  auto res = p->request("GET", "/healthz");
  ASSERT_TRUE(res) << p->last_error().message();
  EXPECT_EQ(res->status, 200);
}

TEST_F(TlsTest, TheServerPrefersAes128GcmOverTheClientsOrder) {
  start(tls_config());
  // OpenSSL's own client order (AES-256 first), and a client that prefers ChaCha20.
  EXPECT_EQ(negotiated_suite(port_, tls_files().ca_pem,
                             "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
                             "TLS_AES_128_GCM_SHA256"),
            "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(negotiated_suite(port_, tls_files().ca_pem,
                             "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"),
            "TLS_AES_128_GCM_SHA256");
  // A client without it gets the next of ours that it has.
  EXPECT_EQ(negotiated_suite(port_, tls_files().ca_pem,
                             "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"),
            "TLS_AES_256_GCM_SHA384");
}

TEST_F(TlsTest, TheConfiguredSuitesAreTheOnlyOnesOffered) {
  json config = tls_config();
  config["tls_ciphersuites"] = "TLS_CHACHA20_POLY1305_SHA256";
  start(config);
  EXPECT_EQ(negotiated_suite(port_, tls_files().ca_pem,
                             "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"),
            "TLS_CHACHA20_POLY1305_SHA256");
  EXPECT_EQ(negotiated_suite(port_, tls_files().ca_pem, "TLS_AES_128_GCM_SHA256"), "");
}

TEST_F(TlsTest, AnUnknownSuiteFailsStartNamingTheKey) {
  json config = tls_config();
  config["tls_ciphersuites"] = "TLS_NOT_A_SUITE";
  config["port"] = 0;
  std::string err;
  ASSERT_EQ(host_->create(config.dump(), &err), VSP_OK) << err;
  EXPECT_EQ(host_->start(&err), VSP_E_INVALID);
  EXPECT_NE(err.find("tls_ciphersuites \"TLS_NOT_A_SUITE\""), std::string::npos) << err;
}

TEST_F(TlsTest, NoCertificateFailsStart) {
  std::string err;
  ASSERT_EQ(host_->create(R"({"tls":true,"port":0})", &err), VSP_OK) << err;
  EXPECT_EQ(host_->start(&err), VSP_E_INVALID);
  EXPECT_NE(err.find("cert_file"), std::string::npos) << err;
}

TEST_F(TlsTest, MissingCertificateFileIsNamed) {
  std::string err;
  ASSERT_EQ(host_->create(R"({"tls":true,"port":0,"cert_file":"/nonexistent.pem","key_file":"/x"})",
                          &err),
            VSP_OK);
  EXPECT_NE(host_->start(&err), VSP_OK);
  EXPECT_NE(err.find("/nonexistent.pem"), std::string::npos) << err;
}

}  // namespace
}  // namespace vespid::ws::testing
