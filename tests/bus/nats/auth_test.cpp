// Credentials and TLS toward a nats-server of the test's own: user and password, a token (a
// wrong one refused at start, naming the server), and TLS with a CA of the test's own for the
// name localhost (another CA or another expected name refused, a burst of the largest payloads
// carried whole).
#include <fstream>
#include <memory>

#include "burst.hpp"
#include "conformance/collector.hpp"
#include "conformance/harness.hpp"
#include "nats_env.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace vespid::bus_test::nats {
namespace {

using namespace std::chrono_literals;

// Starts `h` and sends one request through it to itself.
void round_trip(BusHarness& h) {
  h.start();
  h.bus().subscribe("auth.echo", "", [&](const host::BusMessage& m) {
    h.bus().publish(m.reply_to, std::string(m.data));
  });
  ReplyWaiter w;
  h.bus().request("auth.echo", "hi", 5s, w.done());
  ASSERT_TRUE(w.wait());
  EXPECT_EQ(w.reply().status, host::BusStatus::Ok) << w.reply().error;
  EXPECT_EQ(w.reply().data, "hi");
  h.stop();
}

std::string start_error(const std::string& config) {
  BusHarness h("nats", config);
  try {
    h.start();
  } catch (const std::exception& e) {
    return e.what();
  }
  h.stop();
  return "(started)";
}

TEST(NatsAuth, UserAndPassword) {
  VESPID_REQUIRE_NATS_SERVER();
  vespid::test::NatsServer server("authorization { user: vespid, password: \"s3cret pass\" }");
  server.start();
  BusHarness good("nats",
                  config_for(server.url(), R"("user": "vespid", "password": "s3cret pass")"));
  round_trip(good);
  const std::string err =
      start_error(config_for(server.url(), R"("user": "vespid", "password": "wrong")"));
  EXPECT_EQ(err.rfind("nats: cannot connect to " + server.url() + ": ", 0), 0u) << err;
  EXPECT_NE(err.find("uthorization"), std::string::npos) << err;
  EXPECT_EQ(err.find("wrong"), std::string::npos) << "the password is never echoed: " << err;
  EXPECT_NE(start_error(config_for(server.url())), "(started)") << "no credentials, no entry";
}

TEST(NatsAuth, Token) {
  VESPID_REQUIRE_NATS_SERVER();
  vespid::test::NatsServer server("authorization { token: \"t0ken-abc\" }");
  server.start();
  BusHarness good("nats", config_for(server.url(), R"("token": "t0ken-abc")"));
  round_trip(good);
  EXPECT_NE(start_error(config_for(server.url(), R"("token": "other")")), "(started)");
}

// A CA, a server certificate for localhost signed by it, and another CA.
class Certificates {
 public:
  Certificates() {
    const std::vector<std::string> key = {"-newkey", "ec", "-pkeyopt",
                                          "ec_paramgen_curve:prime256v1", "-nodes"};
    openssl({"req", "-x509"}, key,
            {"-keyout", dir_.file("ca.key"), "-out", dir_.file("ca.crt"), "-days", "2", "-subj",
             "/CN=vespid-test-ca"});
    openssl({"req", "-x509"}, key,
            {"-keyout", dir_.file("other.key"), "-out", dir_.file("other.crt"), "-days", "2",
             "-subj", "/CN=another-ca"});
    openssl({"req"}, key,
            {"-keyout", dir_.file("server.key"), "-out", dir_.file("server.csr"), "-subj",
             "/CN=localhost"});
    std::ofstream(dir_.file("ext.cnf")) << "subjectAltName=DNS:localhost\n";
    openssl({"x509", "-req"}, {},
            {"-in", dir_.file("server.csr"), "-CA", dir_.file("ca.crt"), "-CAkey",
             dir_.file("ca.key"), "-CAcreateserial", "-out", dir_.file("server.crt"), "-days", "2",
             "-extfile", dir_.file("ext.cnf")});
  }
  const std::string& error() const { return error_; }
  std::string file(const std::string& name) const { return dir_.file(name); }

 private:
  void openssl(std::vector<std::string> argv, const std::vector<std::string>& middle,
               const std::vector<std::string>& rest) {
    if (!error_.empty()) return;
    argv.insert(argv.begin(), "openssl");
    argv.insert(argv.end(), middle.begin(), middle.end());
    argv.insert(argv.end(), rest.begin(), rest.end());
    const auto r = vespid::test::run_command(argv);
    if (r.exit_code != 0) error_ = "openssl " + argv[1] + " failed: " + r.err;
  }
  vespid::test::TempDir dir_{"vespid-nats-certs"};
  std::string error_;
};

// A nats-server of the test's own that requires TLS, with a certificate for localhost from the
// test's own CA.
class NatsTls : public testing::Test {
 protected:
  void SetUp() override {
    VESPID_REQUIRE_NATS_SERVER();
    if (vespid::test::run_command({"openssl", "version"}).exit_code != 0) {
      VESPID_SKIP_UNLESS_CI("openssl is not installed (it makes the test's certificates)");
    }
    certs_ = std::make_unique<Certificates>();
    ASSERT_EQ(certs_->error(), "");
    server_ = std::make_unique<vespid::test::NatsServer>(
        "tls {\n  cert_file: " + json_string(certs_->file("server.crt")) +
        "\n  key_file: " + json_string(certs_->file("server.key")) + "\n}");
    server_->start();
  }

  std::string url() const { return "tls://localhost:" + std::to_string(server_->port()); }
  // The bus config toward the server, trusting the CA in `ca_file` (a name of Certificates').
  std::string config_trusting(const std::string& ca_file, const std::string& more = {}) const {
    return config_for(
        url(), R"("tls": {)" + more + R"("ca_file": )" + json_string(certs_->file(ca_file)) + "}");
  }

  std::unique_ptr<Certificates> certs_;
  std::unique_ptr<vespid::test::NatsServer> server_;
};

TEST_F(NatsTls, TheServersCertificateAndNameAreVerified) {
  BusHarness good("nats", config_trusting("ca.crt"));
  round_trip(good);

  const std::string other_ca = start_error(config_trusting("other.crt"));
  EXPECT_EQ(other_ca.rfind("nats: cannot connect to " + url() + ": ", 0), 0u) << other_ca;

  const std::string other_name =
      start_error(config_trusting("ca.crt", R"("server_name": "db.example", )"));
  EXPECT_EQ(other_name.rfind("nats: cannot connect to " + url() + ": ", 0), 0u) << other_name;

  // The server wants TLS: a plain client is refused too.
  EXPECT_NE(start_error(config_for(server_->url(), R"("connect_timeout_ms": 1000)")), "(started)");
}

// Over TLS the plugin's socket thread does every write (OpenSSL takes one connection's read and
// write on one thread), and SSL_read and SSL_write meet a socket that takes a record in pieces.
TEST_F(NatsTls, ABurstBetweenTwoInstancesArrivesWholeAndInOrder) {
  BusHarness a("nats", config_trusting("ca.crt")), b("nats", config_trusting("ca.crt"));
  a.start();
  b.start();
  expect_a_burst_arrives(a, b, "tls.burst");
  a.stop();
  b.stop();
}

}  // namespace
}  // namespace vespid::bus_test::nats
