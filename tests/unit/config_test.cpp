#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "config/schema.hpp"

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
  ASSERT_EQ(c.instances.size(), 6u);
  EXPECT_EQ(c.instances[0].plugin, "sqlite");
  EXPECT_EQ(c.instances[1].plugin, "local");  // the in-process bus
  EXPECT_EQ(c.instances[1].name, "bus");
  EXPECT_EQ(c.instances[2].plugin, "unix");
  EXPECT_EQ(c.instances[3].plugin, "bridge");
  EXPECT_EQ(c.instances[4].plugin, "ws");  // the HTTP API on 3001
  EXPECT_EQ(c.instances[5].plugin, "ws");  // the WebSockets on 3002
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
  EXPECT_EQ(c.log_level, "info");
  o.env = {{"VESPID_CONFIG", "/x"}, {"VESPID_AGENT_TLS_CA_FILE", "/ca.pem"}};
  EXPECT_TRUE(load(o).warnings.empty()) << "variables of the suite's other programs are expected";
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
