#include "nats_env.hpp"

#include <memory>
#include <stdexcept>

#include "skip_or_fail.hpp"

namespace vespid::bus_test::nats {
namespace {

std::unique_ptr<vespid::test::NatsServer>& server_slot() {
  static std::unique_ptr<vespid::test::NatsServer> server;
  return server;
}

// Starts the shared server before the first test and stops it after the last, or skips every
// test (fails them in CI) when this machine has no nats-server.
class NatsEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    if (auto why = vespid::test::NatsServer::unavailable()) VESPID_SKIP_UNLESS_CI(*why);
    try {
      auto server = std::make_unique<vespid::test::NatsServer>();
      server->start();
      server_slot() = std::move(server);
    } catch (const std::exception& e) {
      GTEST_FAIL() << "cannot start the test nats-server: " << e.what();
    }
  }
  void TearDown() override { server_slot().reset(); }
};

[[maybe_unused]] testing::Environment* const kEnvironment =
    testing::AddGlobalTestEnvironment(new NatsEnvironment);

}  // namespace

vespid::test::NatsServer& shared_server() {
  if (!server_slot()) throw std::runtime_error("the test nats-server is not running");
  return *server_slot();
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string config_for(const std::string& url, const std::string& extra_members) {
  std::string json = "{\"servers\": [" + json_string(url) + "]";
  if (!extra_members.empty()) json += ", " + extra_members;
  return json + "}";
}

}  // namespace vespid::bus_test::nats
