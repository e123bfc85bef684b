// Starting, refusing to start, and stopping the real gateway binary.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "build_paths.hpp"
#include "gateway_process.hpp"
#include "operator_client.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

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
  return run_command(argv, env, std::chrono::seconds(20));
}

TEST(GatewayLifecycle, StartsOnDefaultsAndStopsCleanlyOnSigterm) {
  TempDir dir;
  GatewayProcess gw;
  gw.start(dir.file("state"));
  ASSERT_TRUE(gw.wait_ready());
  struct stat st {};
  ASSERT_EQ(::stat(gw.socket_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the admin socket must be private to its owner";
  ASSERT_EQ(::stat(dir.file("state/vespid.db").c_str(), &st), 0) << "SQLite file in the state dir";

  auto client = cli::OperatorClient::connect(gw.socket_path());
  json status = client.call("status");
  EXPECT_EQ(status["stateDir"], dir.file("state"));
  EXPECT_EQ(status["storage"]["plugin"], "sqlite");
  // The defaults: storage, the local bus, the admin socket, the bridge, the HTTP API, the
  // WebSockets and the web control client.
  ASSERT_EQ(status["instances"].size(), 7u);
  EXPECT_EQ(status["instances"][1]["name"], "bus");
  EXPECT_EQ(status["instances"][1]["plugin"], "local");
  EXPECT_EQ(status["instances"][1]["kind"], "bus");
  EXPECT_EQ(status["instances"][2]["plugin"], "unix");
  EXPECT_EQ(status["instances"][3]["plugin"], "bridge");
  EXPECT_EQ(status["instances"][4]["name"], "api");
  EXPECT_EQ(status["instances"][4]["plugin"], "ws");
  EXPECT_EQ(status["instances"][5]["name"], "ws");
  EXPECT_EQ(status["instances"][6]["name"], "web");
  EXPECT_EQ(status["bus"]["plugin"], "local");
  EXPECT_EQ(status["bus"]["up"], true);
  for (const auto& inst : status["instances"]) {
    EXPECT_EQ(inst["state"], "running") << inst.dump();
  }
  client.close();

  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
  EXPECT_NE(gw.log_text().find("storage flushed"), std::string::npos) << gw.log_text();
  EXPECT_NE(::stat(gw.socket_path().c_str(), &st), 0) << "socket file removed on shutdown";
}

TEST(GatewayLifecycle, SecondGatewayOnSameStateDirFailsFast) {
  TempDir dir;
  GatewayProcess first;
  first.start(dir.file("state"));
  ASSERT_TRUE(first.wait_ready());

  auto started = std::chrono::steady_clock::now();
  auto second = gateway({"run", "--state-dir", dir.file("state"), "--plugin-dir", plugin_dir()});
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(second.exit_code, 4) << second.err;
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_NE(second.err.find("another vespid-gateway (pid " + std::to_string(first.pid())),
            std::string::npos)
      << second.err;
  EXPECT_NE(second.err.find(dir.file("state")), std::string::npos) << second.err;
  // The first one is untouched.
  auto client = cli::OperatorClient::connect(first.socket_path());
  EXPECT_EQ(client.call("health")["ok"], true);
}

TEST(GatewayLifecycle, MalformedConfigNamesTheKeyAndType) {
  TempDir dir;
  write_file(dir.file("bad-type.json"), R"({ // comments are allowed
    "log": { "level": 5 } })");
  auto r = gateway({"run", "--config", dir.file("bad-type.json"), "--state-dir", dir.file("s")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("log.level"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("expected one of"), std::string::npos) << r.err;

  write_file(dir.file("typo.json"), R"({"lgo": {"level": "debug"}})");
  r = gateway({"config", "check", "--config", dir.file("typo.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("lgo: unknown key (did you mean \"log\"?)"), std::string::npos) << r.err;

  write_file(dir.file("instances.json"),
             R"({"plugins": {"instances": [{"name": "storage", "plugin": 7}]}})");
  r = gateway({"config", "check", "--config", dir.file("instances.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("plugins.instances[0].plugin: expected a string"), std::string::npos)
      << r.err;

  write_file(dir.file("not-json.json"), "{ log: }");
  r = gateway({"config", "check", "--config", dir.file("not-json.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is not valid JSON"), std::string::npos) << r.err;
}

TEST(GatewayLifecycle, EnvironmentOverridesTheFileAndShowMasksNothingItShouldNot) {
  TempDir dir;
  write_file(dir.file("cfg.json"), R"({"log": {"level": "warn"}, "storage": {"max_batch": 64}})");
  auto r = gateway({"config", "show", "--config", dir.file("cfg.json")},
                   {{"VESPID_LOG_LEVEL", "debug"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json shown = json::parse(r.out);
  EXPECT_EQ(shown["log"]["level"], "debug") << "environment wins over the file";
  EXPECT_EQ(shown["storage"]["max_batch"], 64) << "the file wins over defaults";
  EXPECT_EQ(shown["limits"]["connection_queue_depth"], 1024) << "defaults fill the rest";

  r = gateway({"config", "check"}, {{"VESPID_STORAGE_MAX_BATCH", "lots"}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("VESPID_STORAGE_MAX_BATCH"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("storage.max_batch"), std::string::npos) << r.err;
}

TEST(GatewayLifecycle, UnusableStateDirExitsWithItsOwnCode) {
  TempDir dir;
  write_file(dir.file("a-file"), "not a directory");
  auto r = gateway({"run", "--state-dir", dir.file("a-file/state"), "--plugin-dir", plugin_dir()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find(dir.file("a-file/state")), std::string::npos) << r.err;
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 0777) : 01000;  // 01000: missing
}

TEST(GatewayLifecycle, AStateDirectoryOthersCanReadIsMadePrivate) {
  TempDir dir;
  const std::string state = dir.file("state");
  ASSERT_EQ(::mkdir(state.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(state.c_str(), 0755), 0);  // whatever the umask
  write_file(state + "/vespid.db", "");        // SQLite takes an empty file as a new database
  ASSERT_EQ(::chmod((state + "/vespid.db").c_str(), 0644), 0);
  ASSERT_EQ(::mkdir((state + "/tls").c_str(), 0755), 0);
  ASSERT_EQ(::chmod((state + "/tls").c_str(), 0755), 0);
  write_file(state + "/notes.txt", "not the gateway's: left alone");
  ASSERT_EQ(::chmod((state + "/notes.txt").c_str(), 0644), 0);

  GatewayProcess gw;
  gw.start(state);
  ASSERT_TRUE(gw.wait_ready()) << gw.log_text();
  EXPECT_EQ(mode_of(state), 0700u);
  EXPECT_EQ(mode_of(state + "/vespid.db"), 0600u);
  EXPECT_EQ(mode_of(state + "/tls"), 0700u);
  EXPECT_EQ(mode_of(state + "/notes.txt"), 0644u) << "only the gateway's own files are changed";
  // Files SQLite creates later take the database's mode; the key is the gateway's own.
  for (const char* f :
       {"/vespid.db-wal", "/vespid.db-shm", "/tls/gateway.key", "/tls/gateway.crt"}) {
    const unsigned m = mode_of(state + f);
    if (m != 01000u) {
      EXPECT_EQ(m & 077, 0u) << f << " is readable by others: " << std::oct << m;
    }
  }
  EXPECT_NE(gw.log_text().find("made private"), std::string::npos) << gw.log_text();
  EXPECT_NE(gw.log_text().find(state + "/vespid.db: mode 0644 -> 0600"), std::string::npos)
      << gw.log_text();
  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
}

TEST(GatewayLifecycle, AFreshStateDirectoryIsPrivateFromTheStart) {
  TempDir dir;
  GatewayProcess gw;
  gw.start(dir.file("state"));
  ASSERT_TRUE(gw.wait_ready()) << gw.log_text();
  EXPECT_EQ(mode_of(dir.file("state")), 0700u);
  EXPECT_EQ(mode_of(dir.file("state/vespid.db")), 0600u);
  EXPECT_EQ(gw.log_text().find("made private"), std::string::npos) << "nothing to tighten";
  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
}

TEST(GatewayLifecycle, ModuleBuiltForAbi2IsRefusedWhileTheRestStart) {
  TempDir dir;
  GatewayProcess gw;
  gw.start(dir.file("state"), {"--plugin-dir", VESPID_FIXTURE_PLUGIN_DIR});
  ASSERT_TRUE(gw.wait_ready());
  std::string log = gw.log_text();
  EXPECT_NE(log.find("vespid-abi2.so: built for plugin ABI 2.0, this gateway speaks ABI 1.6; "
                     "rebuild the plugin against the Vespid SDK 1.x"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("vespid-newminor.so: needs plugin ABI 1.99"), std::string::npos) << log;
  auto client = cli::OperatorClient::connect(gw.socket_path());
  EXPECT_EQ(client.call("health")["ok"], true);

  auto listing = gateway({"plugins", "--json", "--plugin-dir", VESPID_FIXTURE_PLUGIN_DIR});
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  json mods = json::parse(listing.out)["modules"];
  int refused = 0, loadable = 0;
  for (const auto& m : mods) (m["loadable"].get<bool>() ? loadable : refused)++;
  EXPECT_EQ(refused, 2);
  EXPECT_GE(loadable, 2) << "at least the sqlite and unix modules";
}

TEST(GatewayLifecycle, ConfiguredPluginThatDoesNotExistStopsStartUp) {
  TempDir dir;
  write_file(dir.file("cfg.json"), R"({"plugins": {"instances": [
      {"name": "storage", "plugin": "sqlite"},
      {"name": "quic", "plugin": "quic-transport"}]}})");
  auto r = gateway({"run", "--config", dir.file("cfg.json"), "--state-dir", dir.file("s"),
                    "--plugin-dir", plugin_dir()});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_NE(r.err.find("plugin instance \"quic\": no plugin \"quic-transport\""), std::string::npos)
      << r.err;

  // The same instance marked optional is skipped with a warning.
  write_file(dir.file("cfg2.json"), R"({"plugins": {"instances": [
      {"name": "storage", "plugin": "sqlite"},
      {"name": "local", "plugin": "unix"},
      {"name": "quic", "plugin": "quic-transport", "required": false}]}})");
  GatewayProcess gw;
  gw.start(dir.file("s2"), {"--config", dir.file("cfg2.json")});
  ASSERT_TRUE(gw.wait_ready());
  EXPECT_NE(gw.log_text().find("optional plugin instance \"quic\" skipped"), std::string::npos);
}

TEST(GatewayLifecycle, HelpAndVersionHelp) {
  auto r = gateway({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("plugins"), std::string::npos);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos);
  r = gateway({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("plugin ABI 1.6"), std::string::npos);
  r = gateway({"--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace vespid::test

namespace vespid::test {
namespace {

TEST(GatewayLifecycle, ListenerPortInUseExitsWithItsOwnCode) {
  TempDir dir;
  GatewayProcess first;
  first.start(dir.file("a"));  // default config: the bridge on 127.0.0.1:18790
  ASSERT_TRUE(first.wait_ready());
  auto second = gateway({"run", "--state-dir", dir.file("b"), "--plugin-dir", plugin_dir()});
  EXPECT_EQ(second.exit_code, 5) << second.err;
  EXPECT_NE(second.err.find("127.0.0.1:18790"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("in use"), std::string::npos) << second.err;
  struct stat st {};
  EXPECT_NE(::stat(dir.file("b/gateway.sock").c_str(), &st), 0)
      << "a failed start leaves no admin socket behind";
}

}  // namespace
}  // namespace vespid::test
