// The nats plugin's config: every refusal names its key, before any connection is tried.
#include "conformance/harness.hpp"
#include "nats_env.hpp"

namespace vespid::bus_test::nats {
namespace {

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

TEST(NatsConfig, RefusalsNameTheKey) {
  EXPECT_EQ(start_error(R"({"servers": "nats://127.0.0.1:4222"})"),
            "nats: \"servers\" must be a non-empty list of URLs");
  EXPECT_EQ(start_error(R"({"servers": []})"),
            "nats: \"servers\" must be a non-empty list of URLs");
  EXPECT_EQ(start_error(R"({"servers": ["http://127.0.0.1:4222"]})"),
            "nats: \"servers[0]\" must be a nats:// or tls:// URL, got \"http://127.0.0.1:4222\"");
  EXPECT_EQ(start_error(R"({"servers": ["nats://u:secret@:4222"]})"),
            "nats: \"servers[0]\" names no host: \"nats://***@:4222\"")
      << "a password in a URL is never echoed";
  EXPECT_EQ(start_error(R"({"password": "p"})"), "nats: \"password\" needs \"user\"");
  EXPECT_EQ(start_error(R"({"user": "u"})"), "nats: \"user\" needs \"password\"");
  EXPECT_EQ(start_error(R"({"user": "u", "password": "p", "token": "t"})"),
            "nats: set one way to authenticate: \"user\" and \"password\", \"token\", or "
            "\"creds_file\"");
  EXPECT_EQ(start_error(R"({"tls": {"cert_file": "/x.crt"}})"),
            "nats: \"tls.cert_file\" and \"tls.key_file\" go together: set both or neither");
  EXPECT_EQ(start_error(R"({"tls": {"verify": false}})"),
            "nats: unknown config key \"tls.verify\" (known keys in tls: ca_file, cert_file, "
            "key_file, server_name)");
  EXPECT_EQ(start_error(R"({"connect_timeout_ms": 5})"),
            "nats: \"connect_timeout_ms\" must be an integer from 100 to 600000");
  EXPECT_EQ(start_error(R"({"connect_required": "no"})"),
            "nats: \"connect_required\" must be true or false");
  EXPECT_EQ(start_error(R"({"prompt_writes": 1})"),
            "nats: \"prompt_writes\" must be true or false");
  EXPECT_EQ(start_error(R"({"servers": ["tls://a.example:4222", "tls://b.example:4222"]})"),
            "nats: the servers are on different hosts; set \"tls.server_name\" to the name their "
            "certificates carry");
  EXPECT_NE(start_error(R"({"url": "nats://x"})").find("nats: unknown config key \"url\""),
            std::string::npos);
}

TEST(NatsConfig, FilesThatDoNotLoadAreNamed) {
  const std::string err = start_error(
      R"({"servers": ["tls://localhost:4222"], "tls": {"ca_file": "/nonexistent/ca.pem"}})");
  EXPECT_NE(err.find("\"tls.ca_file\" /nonexistent/ca.pem"), std::string::npos) << err;
  const std::string creds = start_error(R"({"creds_file": "/nonexistent/user.creds"})");
  EXPECT_NE(creds.find("\"creds_file\""), std::string::npos) << creds;
}

TEST(NatsConfig, ListedAsABusPlugin) {
  auto found = BusHarness::catalog().find("nats");
  EXPECT_EQ(found.plugin->kind, VSP_KIND_BUS);
  EXPECT_EQ(found.module->name, "vespid-nats");
}

}  // namespace
}  // namespace vespid::bus_test::nats
