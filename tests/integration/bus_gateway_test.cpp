// The real vespid-gateway and its bus: the default configuration brings up the in-process
// `local` bus; a `nats` bus instance connects to a nats-server of the test's own, goes down and
// comes back with it; a server that cannot be reached stops the start (exit 6, naming the
// server), and a second bus instance is a config error (exit 2, naming the key).
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "build_paths.hpp"
#include "gateway_process.hpp"
#include "nats_server.hpp"
#include "operator_client.hpp"
#include "skip_or_fail.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// Storage, the admin socket (wait_ready needs it) and the given bus instance(s).
std::string config_with(const json& buses) {
  json instances = json::array({{{"name", "storage"}, {"plugin", "sqlite"}}});
  for (const auto& b : buses) instances.push_back(b);
  instances.push_back({{"name", "local"}, {"plugin", "unix"}});
  return json{{"plugins", {{"instances", instances}}}}.dump(2);
}

json nats_bus(const std::string& url, const json& extra = json::object()) {
  json config = {{"servers", json::array({url})}, {"max_reconnect_wait_ms", 200}};
  config.update(extra);
  return {{"name", "bus"}, {"plugin", "nats"}, {"config", config}};
}

bool wait_for_log(GatewayProcess& gw, const std::string& needle,
                  std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (gw.log_text().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(BusGateway, TheDefaultConfigurationRunsTheLocalBus) {
  TempDir dir;
  GatewayProcess gw;
  gw.start(dir.file("state"));
  ASSERT_TRUE(gw.wait_ready());
  EXPECT_NE(gw.log_text().find("bus \"bus\" (local) up"), std::string::npos) << gw.log_text();
  auto client = cli::OperatorClient::connect(gw.socket_path());
  json status = client.call("status");
  EXPECT_EQ(status["bus"], (json{{"instance", "bus"}, {"plugin", "local"}, {"up", true}}))
      << status.dump();
  client.close();
  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
}

TEST(BusGateway, AnInstanceListWithoutABusGetsTheLocalOne) {
  TempDir dir;
  write_file(dir.file("cfg.json"), config_with(json::array()));
  GatewayProcess gw;
  gw.start(dir.file("state"), {"--config", dir.file("cfg.json")});
  ASSERT_TRUE(gw.wait_ready());
  EXPECT_NE(gw.log_text().find("no bus instance configured; using the in-process \"local\" bus"),
            std::string::npos)
      << gw.log_text();
  EXPECT_NE(gw.log_text().find("bus \"bus\" (local) up"), std::string::npos) << gw.log_text();
  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
}

TEST(BusGateway, ANatsBusFollowsItsServerDownAndUp) {
  if (auto why = NatsServer::unavailable()) VESPID_SKIP_UNLESS_CI(*why);
  NatsServer nats;
  nats.start();
  TempDir dir;
  write_file(dir.file("cfg.json"), config_with(json::array({nats_bus(nats.url())})));
  GatewayProcess gw;
  gw.start(dir.file("state"), {"--config", dir.file("cfg.json")});
  ASSERT_TRUE(gw.wait_ready());
  EXPECT_NE(gw.log_text().find("bus \"bus\" (nats) up"), std::string::npos) << gw.log_text();
  EXPECT_NE(gw.log_text().find("nats: connected to " + nats.url()), std::string::npos)
      << gw.log_text();
  auto client = cli::OperatorClient::connect(gw.socket_path());
  EXPECT_EQ(client.call("status")["bus"]["up"], true);

  nats.kill();
  ASSERT_TRUE(wait_for_log(gw, "bus \"bus\" (nats) down")) << gw.log_text();
  EXPECT_EQ(client.call("status")["bus"]["up"], false) << "the gateway keeps running, bus down";
  nats.start();
  ASSERT_TRUE(wait_for_log(gw, "bus \"bus\" (nats) up: reconnected")) << gw.log_text();
  EXPECT_EQ(client.call("status")["bus"]["up"], true);
  client.close();
  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
}

TEST(BusGateway, AnUnreachableNatsServerStopsTheStart) {
  if (auto why = NatsServer::unavailable()) VESPID_SKIP_UNLESS_CI(*why);
  const std::string url = "nats://127.0.0.1:" + std::to_string(pick_free_port());
  TempDir dir;
  write_file(dir.file("cfg.json"),
             config_with(json::array({nats_bus(url, {{"connect_timeout_ms", 500}})})));
  GatewayProcess gw;
  gw.start(dir.file("state"), {"--config", dir.file("cfg.json")});
  EXPECT_EQ(gw.wait_exit(30s), 6) << gw.log_text();
  EXPECT_NE(gw.log_text().find("bus instance \"bus\" (nats) failed to start: nats: cannot "
                               "connect to " +
                               url + ": "),
            std::string::npos)
      << gw.log_text();
}

TEST(BusGateway, ASecondBusInstanceIsAConfigError) {
  TempDir dir;
  json second = {{"name", "bus2"}, {"plugin", "local"}};
  write_file(dir.file("cfg.json"),
             config_with(json::array({{{"name", "bus"}, {"plugin", "local"}}, second})));
  GatewayProcess gw;
  gw.start(dir.file("state"), {"--config", dir.file("cfg.json")});
  EXPECT_EQ(gw.wait_exit(30s), 2) << gw.log_text();
  EXPECT_NE(gw.log_text().find("config error: plugins.instances[2] (\"bus2\", plugin local): a "
                               "second bus instance; a gateway has exactly one bus, and "
                               "plugins.instances[1] (\"bus\") is already one"),
            std::string::npos)
      << gw.log_text();
}

}  // namespace
}  // namespace vespid::test
