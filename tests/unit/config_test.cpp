#include "config/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "config/listen_ports.hpp"
#include "config/schema.hpp"
#include "config/web_dir.hpp"

namespace vespid::config {
namespace {

// Config files written by a test, removed when the test binary exits.
struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    for (const auto& p : paths) std::remove(p.c_str());
  }
};
TempFiles g_files;

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/vespid-config-XXXXXX";
  int fd = mkstemp(path);
  ::close(fd);
  std::ofstream(path) << text;
  g_files.paths.push_back(path);
  return path;
}

std::string error_of(const LoadOptions& o) {
  try {
    load(o);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Config, EveryKeyHasADefaultSoNoFileIsNeeded) {
  GatewayConfig c = load({});
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.log_format, "text");
  ASSERT_EQ(c.instances.size(), 7u);
  EXPECT_EQ(c.instances[0].plugin, "sqlite");
  EXPECT_EQ(c.instances[1].plugin, "local");  // the in-process bus
  EXPECT_EQ(c.instances[1].name, "bus");
  EXPECT_EQ(c.instances[2].plugin, "unix");
  EXPECT_EQ(c.instances[3].plugin, "bridge");
  EXPECT_EQ(c.instances[4].plugin, "ws");  // the HTTP API on 3001
  EXPECT_EQ(c.instances[5].plugin, "ws");  // the WebSockets on 3002
  EXPECT_EQ(c.instances[6].plugin, "ws");  // the web control client on 3000
  EXPECT_EQ(c.instances[6].name, "web");
  EXPECT_FALSE(c.state_dir.empty());
  EXPECT_EQ(c.source, "(defaults)");
  for (const auto& k : schema()) {
    EXPECT_FALSE(k.description.empty()) << k.path << " needs a description for the docs";
  }
}

TEST(Config, LayersApplyInOrderDefaultsFileEnvFlags) {
  std::string f =
      write_temp(R"({"log": {"level": "warn", "format": "json"}, "storage": {"max_batch": 7}})");
  LoadOptions o;
  o.file = f;
  o.env = {{"VESPID_LOG_LEVEL", "debug"}, {"VESPID_PLUGINS_DIRS", "/a:/b"}};
  o.flags = {{"log.format", "text"}};
  GatewayConfig c = load(o);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.log_format, "text");
  EXPECT_EQ(c.storage_max_batch, 7);
  EXPECT_EQ(c.plugin_dirs, (std::vector<std::string>{"/a", "/b"}));
}

TEST(Config, ErrorsNameThePathAndTheExpectedType) {
  LoadOptions o;
  o.file = write_temp(R"({"storage": {"max_batch": "many"}})");
  EXPECT_NE(
      error_of(o).find("storage.max_batch: expected an integer from 1 to 100000, got a string"),
      std::string::npos)
      << error_of(o);
  o.file = write_temp(R"({"storage": {"max_batch": 0}})");
  EXPECT_NE(error_of(o).find("storage.max_batch"), std::string::npos);
  o.file = write_temp(R"({"storage": {"defer_syncs": "yes"}})");
  EXPECT_NE(error_of(o).find("storage.defer_syncs"), std::string::npos) << error_of(o);
  o.file = write_temp(R"({"log": {"components": {"storage": "chatty"}}})");
  EXPECT_NE(error_of(o).find("log.components.storage: expected a log level"), std::string::npos)
      << error_of(o);
  o.file = write_temp(
      R"({"plugins": {"instances": [{"name": "a", "plugin": "x"}, {"name": "a", "plugin": "y"}]}})");
  EXPECT_NE(error_of(o).find("plugins.instances[1].name: duplicate instance name"),
            std::string::npos)
      << error_of(o);
  o.file = write_temp(R"({"plugins": {"instances": [{"name": "Bad Name", "plugin": "x"}]}})");
  EXPECT_NE(error_of(o).find("plugins.instances[0].name"), std::string::npos);
  o.file = write_temp(R"({"storage": {"max_bacth": 1}})");
  EXPECT_NE(error_of(o).find("storage.max_bacth: unknown key (did you mean \"max_batch\"?)"),
            std::string::npos)
      << error_of(o);
  o.file = write_temp(R"([1, 2])");
  EXPECT_NE(error_of(o).find("the top level must be an object"), std::string::npos);
}

TEST(Config, UnknownVespidVariablesAreReportedNotFatal) {
  LoadOptions o;
  o.env = {{"VESPID_LOG_LEVL", "debug"}};
  GatewayConfig c = load(o);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("VESPID_LOG_LEVL is set but names no configuration key"),
            std::string::npos);
  EXPECT_NE(c.warnings[0].find("(did you mean \"VESPID_LOG_LEVEL\"?)"), std::string::npos)
      << c.warnings[0];
  EXPECT_EQ(c.log_level, "info");
  o.env = {{"VESPID_TOTALLY_UNRELATED", "1"}};
  ASSERT_EQ(load(o).warnings.size(), 1u);
  EXPECT_EQ(load(o).warnings[0].find("did you mean"), std::string::npos)
      << "no suggestion when nothing is near: " << load(o).warnings[0];
  o.env = {{"VESPID_CONFIG", "/x"}, {"VESPID_AGENT_TLS_CA_FILE", "/ca.pem"}};
  EXPECT_TRUE(load(o).warnings.empty()) << "variables of the suite's other programs are expected";
}

TEST(Config, EveryProblemIsReportedNotOnlyTheFirst) {
  LoadOptions o;
  o.file = write_temp(R"({"lgo": {}, "storage": {"max_batch": "x"},
      "plugins": {"instances": [{"name": "a", "plugin": 1}, {"name": "b", "plugin": "ws"},
                                {"name": "c", "plugn": "ws"}]}})");
  o.env = {{"VESPID_LOG_LEVEL", "loud"}};
  o.flags = {{"log.format", "yaml"}};
  GatewayConfig c = load_reporting_all(o);
  ASSERT_EQ(c.errors.size(), 6u) << ::testing::PrintToString(c.errors);
  for (const char* expected :
       {"config error: lgo: unknown key (did you mean \"log\"?)",
        "config error: storage.max_batch: expected an integer",
        "config error: plugins.instances[0].plugin: expected a string",
        "config error: plugins.instances[2].plugn: unknown key (did you mean "
        "\"plugin\"?)",
        "config error: VESPID_LOG_LEVEL (environment, for log.level)",
        "config error: log.format (command line)"}) {
    bool found = false;
    for (const auto& e : c.errors) found = found || e.rfind(expected, 0) == 0;
    EXPECT_TRUE(found) << expected << " in " << ::testing::PrintToString(c.errors);
  }
  ASSERT_EQ(c.instances.size(), 1u) << "the instances that pass are kept for the other checks";
  EXPECT_EQ(c.instances[0].name, "b");
  EXPECT_EQ(c.instances[0].position, 1u) << "messages name it where the file has it";
  EXPECT_EQ(c.storage_max_batch, 512) << "a key in error keeps its default";

  const std::string thrown = error_of(o);
  EXPECT_EQ(std::count(thrown.begin(), thrown.end(), '\n'), 5) << "load throws them all:\n"
                                                               << thrown;
}

TEST(Config, AListenPortKeyMovesTheInstanceOfThatName) {
  LoadOptions o;
  o.file = write_temp(R"({"listen": {"api_port": 4001}})");
  o.env = {{"VESPID_LISTEN_BRIDGE_PORT", "4790"}};
  GatewayConfig c = load(o);
  ASSERT_EQ(c.instances[4].name, "api");
  EXPECT_EQ(c.instances[4].config["port"], 4001);
  EXPECT_EQ(c.instances[4].config["routes"].size(), 4u) << "the rest of the instance is kept";
  EXPECT_EQ(c.instances[5].config["port"], 3002) << "listen.ws_port unset: its own port";
  ASSERT_EQ(c.instances[3].name, "bridge");
  EXPECT_EQ(c.instances[3].config["port"], 4790);
  EXPECT_EQ(port_setting_of(c, "api"), "listen.api_port (VESPID_LISTEN_API_PORT)");
  EXPECT_EQ(port_setting_of(c, "local"), "plugins.instances[2].config.port");

  o.file = write_temp(R"({"listen": {"ws_port": 4002},
      "plugins": {"instances": [{"name": "storage", "plugin": "sqlite"}]}})");
  o.env = {};
  EXPECT_NE(error_of(o).find("listen.ws_port: no plugin instance is named \"ws\""),
            std::string::npos)
      << error_of(o);
  o.file = write_temp(R"({"listen": {"ws_port": 70000}})");
  EXPECT_NE(error_of(o).find("listen.ws_port: expected an integer from 0 to 65535"),
            std::string::npos)
      << error_of(o);
}

TEST(Config, TheWebListenerFindsTheWebClientWithoutConfiguration) {
  GatewayConfig c = load({});
  ASSERT_EQ(c.instances[6].name, "web");
  const std::string dir = c.instances[6].config["static_dir"];
  EXPECT_EQ(dir, installed_web_dir()) << "\"@web\" is replaced by the installed directory";
  EXPECT_TRUE(std::filesystem::is_directory(dir)) << dir << ": the build tree links apps/web";
  EXPECT_EQ(c.instances[6].config["port"], 3000);

  LoadOptions o;
  o.env = {{"VESPID_LISTEN_WEB_PORT", "4000"}, {"VESPID_WEB_DIR", "/tmp"}};
  c = load(o);
  EXPECT_EQ(c.instances[6].config["port"], 4000);
  EXPECT_EQ(c.instances[6].config["static_dir"], "/tmp") << "web.dir wins";

  o.env = {{"VESPID_WEB_DIR", "/nonexistent/vespid-web"}};
  const std::string err = error_of(o);
  EXPECT_NE(err.find("web.dir: the web control client's files are not at "
                     "\"/nonexistent/vespid-web\""),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("instance \"web\""), std::string::npos) << err;

  // A static_dir of its own is left alone, and so is an instance list without "@web".
  o.env = {{"VESPID_WEB_DIR", "/nonexistent/vespid-web"}};
  o.file = write_temp(R"({"plugins": {"instances": [{"name": "storage", "plugin": "sqlite"},
      {"name": "site", "plugin": "ws", "config": {"static_dir": "/tmp"}}]}})");
  c = load(o);
  EXPECT_EQ(c.instances.back().config["static_dir"], "/tmp");
}

TEST(Config, CommentsAreAllowed) {
  LoadOptions o;
  o.file = write_temp("// top\n{ /* inline */ \"log\": {\"level\": \"error\"} }\n");
  EXPECT_EQ(load(o).log_level, "error");
}

TEST(Config, PublicLookupServesPluginsButNeverSecrets) {
  GatewayConfig c = load({});
  const auto* v = lookup_public(c, "log.level");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(*v, "info");
  EXPECT_EQ(lookup_public(c, "no.such.key"), nullptr);
}

TEST(Config, EnvNamesAreDerivedFromPaths) {
  EXPECT_EQ(env_name("log.level"), "VESPID_LOG_LEVEL");
  EXPECT_EQ(env_name("limits.max_connections"), "VESPID_LIMITS_MAX_CONNECTIONS");
}

}  // namespace
}  // namespace vespid::config
