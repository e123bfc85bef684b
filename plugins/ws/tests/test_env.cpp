#include "test_env.hpp"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace vespid::ws::testing {

namespace {

void sh(const std::string& cmd) {
  const std::string full = cmd + " >/dev/null 2>&1";
  if (std::system(full.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

struct TlsDir {
  TlsFiles files;
  TlsDir() {
    char tmpl[] = "/tmp/vespid-ws-tls-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    files.dir = tmpl;
    const std::string d = files.dir;
    files.ca_pem = d + "/ca.pem";
    files.cert_pem = d + "/server.pem";
    files.key_pem = d + "/server.key";
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    sh("openssl req -x509 " + ec + " -keyout " + d + "/ca.key -out " + files.ca_pem +
       " -days 2 -subj /CN=vespid-test-ca -addext basicConstraints=critical,CA:TRUE"
       " -addext keyUsage=critical,keyCertSign,cRLSign");
    sh("openssl req " + ec + " -keyout " + files.key_pem + " -out " + d +
       "/server.csr -subj /CN=localhost");
    std::ofstream(d + "/ext.cnf") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                     "basicConstraints=CA:FALSE\n"
                                     "keyUsage=critical,digitalSignature,keyEncipherment\n"
                                     "extendedKeyUsage=serverAuth\n";
    sh("openssl x509 -req -in " + d + "/server.csr -CA " + files.ca_pem + " -CAkey " + d +
       "/ca.key -CAcreateserial -out " + files.cert_pem + " -days 2 -extfile " + d + "/ext.cnf");
  }
  ~TlsDir() {
    std::error_code ec;
    std::filesystem::remove_all(files.dir, ec);
  }
};

}  // namespace

nlohmann::json read_rest_envelope(const std::string& message) {
  const std::size_t newline = message.find('\n');
  EXPECT_NE(newline, std::string::npos) << "no newline after the envelope: " << message;
  if (newline == std::string::npos) return nullptr;
  nlohmann::json env = nlohmann::json::parse(message.substr(0, newline), nullptr, false);
  EXPECT_TRUE(env.is_object()) << "the envelope is not a JSON object: " << message;
  if (!env.is_object()) return nullptr;
  EXPECT_FALSE(env.contains("body")) << "a body member beside the body's bytes: " << message;
  env["body"] = message.substr(newline + 1);
  return env;
}

FakeHost::FakeHost()
    : ::vespid::testing::FakeHost({.module_path = VESPID_WS_PLUGIN_PATH,
                                   .plugin_id = "ws",
                                   .require_admit = true,
                                   .instance_name = "ws-test",
                                   .state_dir = "/tmp",
                                   .host_timers_and_watches = false}) {
  rest_responder = [](FakeConn&, const std::string& envelope) -> std::optional<std::string> {
    nlohmann::json res = {{"status", 200},
                          {"headers", {{"content-type", "application/json"}, {"x-echo", "yes"}}},
                          {"body", read_rest_envelope(envelope).dump()}};
    return res.dump();
  };
  on_protocol_error = [this](FakeConn& c, int status, const std::string& message) {
    // As the gateway does: answer in the dialect's form, then close.
    nlohmann::json err = {{"type", "error"}, {"code", "INVALID_REQUEST"}, {"message", message}};
    send(c, err.dump());
    close(c, status, message.c_str());
  };
}

uint16_t FakeHost::port() {
  for (const auto& line : logs()) {
    const auto at = line.find("(port ");
    if (line.rfind("listening on ", 0) == 0 && at != std::string::npos) {
      return static_cast<uint16_t>(std::stoi(line.substr(at + 6)));
    }
  }
  return 0;
}

const TlsFiles& tls_files() {
  static TlsDir dir;
  return dir.files;
}

void WsTest::TearDown() {
  if (host_->started()) {
    EXPECT_TRUE(host_->stop()) << "stop did not complete";
  }
  host_->destroy();
  EXPECT_EQ(host_->violations(), std::vector<std::string>{});
  host_.reset();
}

void WsTest::start(nlohmann::json config) {
  if (!config.contains("port")) config["port"] = 0;
  std::string err;
  ASSERT_EQ(host_->create(config.dump(), &err), VSP_OK) << err;
  ASSERT_EQ(host_->start(&err), VSP_OK) << err;
  port_ = host_->port();
  ASSERT_NE(port_, 0) << "no port in the log";
}

std::unique_ptr<Peer> WsTest::peer(std::shared_ptr<boost::asio::ssl::context> tls, int rcvbuf) {
  auto p = std::make_unique<Peer>(port_, std::move(tls), rcvbuf);
  EXPECT_FALSE(p->connect()) << p->last_error().message();
  return p;
}

std::unique_ptr<Peer> WsTest::ws_peer(const std::string& target, const Headers& headers) {
  auto p = peer();
  const auto res = p->ws_handshake(target, headers);
  EXPECT_EQ(res.status, 101) << res.body;
  return p;
}

}  // namespace vespid::ws::testing
