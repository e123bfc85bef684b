// TLS on the ws listener: https and wss on one port, verified against a CA made for the test;
// a client without that CA fails verification; the certificate may come from the gateway's
// tls.* config.
#include "test_env.hpp"

namespace vespid::ws::testing {
namespace {

using nlohmann::json;

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
  EXPECT_EQ(conns[0]->flags, VSP_CONN_TLS);
  EXPECT_EQ(conns[1]->flags, VSP_CONN_TLS | VSP_CONN_ADMISSION);
  EXPECT_EQ(conns[1]->bearer, "t");
  ASSERT_FALSE(wss->ws_close());
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
