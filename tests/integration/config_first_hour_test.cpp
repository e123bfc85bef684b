// What a newcomer meets in the first hour (issue 21): `config check` reports every problem `run`
// would stop at, at once and with did-you-mean; one key moves one listener; internal routes
// served beyond loopback are called out; a port in use names the setting that moves it.
// Everything runs the real vespid-gateway binary and binds only 127.0.0.1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "build_paths.hpp"
#include "gateway_process.hpp"
#include "process.hpp"
#include "temp_dir.hpp"
#include "web_test_client.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

CommandResult gateway(const std::vector<std::string>& args, const EnvOverrides& env = {}) {
  std::vector<std::string> argv{gateway_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--plugin-dir", plugin_dir()});
  return run_command(argv, env, std::chrono::seconds(20));
}

CommandResult config_check(const std::string& file, const std::string& state_dir,
                           const EnvOverrides& env = {}, bool strict = false) {
  std::vector<std::string> args{"config", "check", "--config", file, "--state-dir", state_dir};
  if (strict) args.push_back("--strict");
  return gateway(args, env);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A listening socket on 127.0.0.1 held by the test, so the gateway finds its port taken.
class HeldPort {
 public:
  HeldPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot hold a port on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~HeldPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// The default instance list on free ports, so that tests running in parallel (and a gateway on
// the default ports) never meet.
EnvOverrides free_ports() {
  return {{"VESPID_LISTEN_API_PORT", std::to_string(pick_free_port())},
          {"VESPID_LISTEN_WS_PORT", std::to_string(pick_free_port())},
          {"VESPID_LISTEN_BRIDGE_PORT", std::to_string(pick_free_port())}};
}

TEST(ConfigFirstHour, ConfigCheckReportsEveryProblemAtOnceWithDidYouMean) {
  TempDir dir;
  // Three mistakes, each of which `run` meets only one at a time: a plugin that does not exist,
  // a key the ws plugin does not know, a misspelt environment variable.
  write_file(dir.file("cfg.json"), R"({"plugins": {"instances": [
      {"name": "storage", "plugin": "sqlite"},
      {"name": "local", "plugin": "unix"},
      {"name": "api", "plugin": "wss", "config": {"port": 3001}},
      {"name": "ws", "plugin": "ws", "config": {"prot": 3002}}]}})");
  const std::string state = dir.file("state");
  auto r = config_check(dir.file("cfg.json"), state, {{"VESPID_LOG_LEVL", "debug"}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(contains(r.err,
                       "config error: plugins.instances[2] (\"api\").plugin: no plugin "
                       "\"wss\" (did you mean \"ws\"?) in the plugin directories"))
      << r.err;
  EXPECT_TRUE(contains(r.err,
                       "config error: plugins.instances[3] (\"ws\").config (plugin ws): "
                       "ws: unknown config key \"prot\" (did you mean \"port\"?)"))
      << r.err;
  EXPECT_TRUE(contains(r.err,
                       "warning: VESPID_LOG_LEVL is set but names no configuration key; "
                       "ignored (did you mean \"VESPID_LOG_LEVEL\"?)"))
      << r.err;
  EXPECT_TRUE(
      contains(r.err, "config check failed: 2 errors, 1 warning in " + dir.file("cfg.json")))
      << r.err;
  EXPECT_FALSE(contains(r.out, "config OK")) << r.out;
  struct stat st {};
  EXPECT_NE(::stat(state.c_str(), &st), 0) << "a check creates no state directory";

  // `run` agrees that the first one stops it, and suggests the same.
  auto run = gateway({"run", "--config", dir.file("cfg.json"), "--state-dir", state});
  EXPECT_EQ(run.exit_code, 6) << run.err;
  EXPECT_TRUE(
      contains(run.err, "plugin instance \"api\": no plugin \"wss\" (did you mean \"ws\"?)"))
      << run.err;
}

TEST(ConfigFirstHour, RunSuggestsTheNearestKeyOfAPluginsConfigToo) {
  TempDir dir;
  write_file(dir.file("cfg.json"), R"({"plugins": {"instances": [
      {"name": "storage", "plugin": "sqlite"},
      {"name": "local", "plugin": "unix"},
      {"name": "ws", "plugin": "ws", "config": {"prot": 3002}}]}})");
  auto run = gateway({"run", "--config", dir.file("cfg.json"), "--state-dir", dir.file("state")});
  EXPECT_EQ(run.exit_code, 6) << run.err;
  EXPECT_TRUE(contains(run.err,
                       "plugin instance \"ws\" (ws) failed to start: ws: unknown config "
                       "key \"prot\" (did you mean \"port\"?)"))
      << run.err;
}

TEST(ConfigFirstHour, ConfigCheckReportsEveryKeyErrorOfTheFileAndTheEnvironment) {
  TempDir dir;
  write_file(dir.file("cfg.json"), R"({"lgo": {"level": "debug"},
      "storage": {"max_bacth": 3},
      "plugins": {"instances": [{"name": "storage", "plugin": "sqlite", "requierd": false},
                                {"name": "api", "plugin": "ws", "config": {"bind": "tailnet"}}]}})");
  auto r = config_check(dir.file("cfg.json"), dir.file("state"),
                        {{"VESPID_STORAGE_QUEUE_DEPTH", "deep"}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  for (const char* expected :
       {"config error: lgo: unknown key (did you mean \"log\"?)",
        "config error: storage.max_bacth: unknown key (did you mean \"max_batch\"?)",
        "config error: plugins.instances[0].requierd: unknown key (did you mean \"required\"?)",
        "config error: VESPID_STORAGE_QUEUE_DEPTH (environment, for storage.queue_depth): "
        "expected an integer",
        "config error: plugins.instances[1] (\"api\").config.bind: bind \"tailnet\" needs a "
        "netbind plugin instance",
        "config check failed: 5 errors"}) {
    EXPECT_TRUE(contains(r.err, expected)) << "missing: " << expected << "\n" << r.err;
  }

  // `run` names them all too, a line each, and exits 2 before touching anything.
  auto run = gateway({"run", "--config", dir.file("cfg.json"), "--state-dir", dir.file("state")},
                     {{"VESPID_STORAGE_QUEUE_DEPTH", "deep"}});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_TRUE(contains(run.err, "vespid-gateway: config error: lgo:")) << run.err;
  EXPECT_TRUE(contains(run.err, "vespid-gateway: config error: VESPID_STORAGE_QUEUE_DEPTH"))
      << run.err;
}

TEST(ConfigFirstHour, AWarningAloneKeepsTheCheckGreenUnlessStrict) {
  TempDir dir;
  write_file(dir.file("cfg.json"), "{}");
  auto r = config_check(dir.file("cfg.json"), dir.file("state"), {{"VESPID_LOG_LEVL", "debug"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "config OK: " + dir.file("cfg.json"))) << r.out;
  EXPECT_TRUE(contains(r.out, "1 warning")) << r.out;
  EXPECT_TRUE(contains(r.err, "did you mean \"VESPID_LOG_LEVEL\"?")) << r.err;

  r = config_check(dir.file("cfg.json"), dir.file("state"), {{"VESPID_LOG_LEVL", "debug"}},
                   /*strict=*/true);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "config check failed: 0 errors, 1 warning (--strict)")) << r.err;
}

TEST(ConfigFirstHour, OneKeyMovesTheListenerOfTheDefaultList) {
  TempDir dir;
  const int api_port = pick_free_port();
  write_file(dir.file("cfg.json"), R"({"listen": {"api_port": )" + std::to_string(api_port) + "}}");
  EnvOverrides env = free_ports();
  env.erase("VESPID_LISTEN_API_PORT");  // the file's key moves the API

  auto shown = gateway({"config", "show", "--config", dir.file("cfg.json")}, env);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const json effective = json::parse(shown.out);
  EXPECT_EQ(effective["plugins"]["instances"][4]["config"]["port"], api_port) << shown.out;
  EXPECT_EQ(effective["plugins"]["instances"][5]["config"]["port"],
            std::stoi(env["VESPID_LISTEN_WS_PORT"]))
      << "the environment moves the WebSockets";
  EXPECT_EQ(effective["plugins"]["instances"][4]["config"]["routes"].size(), 4u)
      << "the rest of the instance is the default's";

  GatewayProcess gw;
  gw.start(dir.file("state"), {"--config", dir.file("cfg.json")}, env);
  ASSERT_TRUE(gw.wait_ready()) << gw.log_text();
  EXPECT_TRUE(contains(gw.log_text(), "127.0.0.1:" + std::to_string(api_port))) << gw.log_text();
  web::HttpReply health = web::http_request({"127.0.0.1", api_port}, "GET", "/healthz");
  EXPECT_EQ(health.status, 200) << health.error << health.raw_body;
  const int ws_port = std::stoi(env["VESPID_LISTEN_WS_PORT"]);
  health = web::http_request({"127.0.0.1", ws_port}, "GET", "/healthz");
  EXPECT_EQ(health.status, 200) << health.error << health.raw_body;
  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
}

TEST(ConfigFirstHour, APortKeyForAnInstanceThatIsNotThereIsAnError) {
  TempDir dir;
  write_file(dir.file("cfg.json"), R"({"plugins": {"instances": [
      {"name": "storage", "plugin": "sqlite"},
      {"name": "http", "plugin": "ws", "config": {"port": 3001}}]}})");
  auto r =
      config_check(dir.file("cfg.json"), dir.file("state"), {{"VESPID_LISTEN_API_PORT", "4001"}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "config error: listen.api_port: no plugin instance is named \"api\""))
      << r.err;
}

TEST(ConfigFirstHour, APortInUseNamesTheSettingThatMovesIt) {
  TempDir dir;
  HeldPort held;
  EnvOverrides env = free_ports();
  env["VESPID_LISTEN_API_PORT"] = std::to_string(held.port());
  auto r = gateway({"run", "--state-dir", dir.file("a")}, env);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_TRUE(contains(r.err, "127.0.0.1:" + std::to_string(held.port()))) << r.err;
  EXPECT_TRUE(contains(r.err,
                       "to listen on another port, change listen.api_port "
                       "(VESPID_LISTEN_API_PORT)"))
      << r.err;

  // An instance no listen key names: its own config.port, by its place in the list.
  write_file(dir.file("cfg.json"), R"({"plugins": {"instances": [
      {"name": "storage", "plugin": "sqlite"},
      {"name": "local", "plugin": "unix"},
      {"name": "admin-http", "plugin": "ws", "config": {"port": )" +
                                       std::to_string(held.port()) + "}}]}}");
  r = gateway({"run", "--config", dir.file("cfg.json"), "--state-dir", dir.file("b")});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_TRUE(contains(r.err, "to listen on another port, change plugins.instances[2].config.port"))
      << r.err;
}

TEST(ConfigFirstHour, InternalRoutesBeyondLoopbackAreCalledOut) {
  TempDir dir;
  // Checked only: nothing here binds, so no test listens beyond loopback.
  write_file(dir.file("cfg.json"), R"({"plugins": {"instances": [
      {"name": "storage", "plugin": "sqlite"},
      {"name": "everything", "plugin": "ws", "config": {"host": "0.0.0.0", "port": 3001}},
      {"name": "ops", "plugin": "ws", "config": {"host": "192.0.2.10", "port": 3002, "routes": [
          {"path": "/ws/operator", "dialect": "operator.v1", "websocket": true}]}},
      {"name": "public", "plugin": "ws", "config": {"host": "lan", "port": 3003, "routes": [
          {"prefix": "/v1/", "dialect": "rest.v1"}]}},
      {"name": "second-loopback", "plugin": "ws", "config": {"host": "127.0.0.2", "port": 3004}},
      {"name": "v6-loopback", "plugin": "ws", "config": {"host": "::1", "port": 3005}}]}})");
  auto r = config_check(dir.file("cfg.json"), dir.file("state"));
  EXPECT_EQ(r.exit_code, 0) << "a warning, not an error\n" << r.err;
  EXPECT_TRUE(contains(r.err,
                       "warning: plugins.instances[1] (\"everything\") serves the internal "
                       "routes /internal/v1/ and /ws/operator beyond loopback, on 0.0.0.0 "
                       "(it has no \"routes\", so it serves every route)"))
      << r.err;
  EXPECT_TRUE(contains(r.err,
                       "warning: plugins.instances[2] (\"ops\") serves the internal routes "
                       "/ws/operator (operator.v1) beyond loopback, on 192.0.2.10"))
      << r.err;
  EXPECT_FALSE(contains(r.err, "\"public\"")) << "/v1/ alone is not internal\n" << r.err;
  EXPECT_FALSE(contains(r.err, "second-loopback")) << "127.0.0.0/8 is loopback\n" << r.err;
  EXPECT_FALSE(contains(r.err, "v6-loopback")) << r.err;
  EXPECT_TRUE(contains(r.out, "2 warnings")) << r.out;
}

TEST(ConfigFirstHour, RunLogsTheInternalRoutesWarningAtStart) {
  TempDir dir;
  // A bind spec that resolves beyond loopback once a tailnet appears; until then the listener
  // waits (only its loopback companion listens), so the test binds nothing beyond loopback.
  const int port = pick_free_port();
  write_file(dir.file("cfg.json"), R"({"plugins": {"instances": [
      {"name": "storage", "plugin": "sqlite"},
      {"name": "local", "plugin": "unix"},
      {"name": "net", "plugin": "tailnet",
       "config": {"ranges": ["198.51.100.0/24"], "magicdns": false}},
      {"name": "api", "plugin": "ws", "config": {"bind": "tailnet", "port": )" +
                                       std::to_string(port) + "}}]}}");
  GatewayProcess gw;
  gw.start(dir.file("state"), {"--config", dir.file("cfg.json")});
  ASSERT_TRUE(gw.wait_ready()) << gw.log_text();
  const std::string log = gw.log_text();
  EXPECT_TRUE(contains(log,
                       "config: plugins.instances[3] (\"api\") serves the internal routes "
                       "/internal/v1/ and /ws/operator beyond loopback, on tailnet"))
      << log;
  EXPECT_EQ(gw.terminate(), 0) << log;
}

}  // namespace
}  // namespace vespid::test
