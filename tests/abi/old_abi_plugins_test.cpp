// Modules built against the frozen ABI 1.0, 1.1 and 1.2 headers (tests/abi/headers-1.*) load and
// work in the gateway of this build (1.3 added the bus kind; a 1.2 module knows nothing of it). A
// change to the host or to the current headers that breaks an already-built module of an older
// minor fails here. See tests/abi/README.md.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "build_paths.hpp"
#include "gateway_process.hpp"
#include "operator_client.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct OldAbi {
  const char* tag;  // FX_TAG of the build, see tests/abi/CMakeLists.txt
  const char* abi;  // what its vsp_module_info declares
};
constexpr OldAbi kOldAbis[] = {{"abi10", "1.0"}, {"abi11", "1.1"}, {"abi12", "1.2"}};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// Storage and the admin socket (wait_ready needs it), then every plugin of the fixture modules.
// The 1.1 transport watches a spec only the 1.0 netbind answers and the 1.2 transport one only
// the 1.1 netbind answers, so one start exercises host services and netbind tables of different
// minors together. No bus instance: the gateway adds the local one.
std::string fixture_config() {
  json instances = json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                                {{"name", "local"}, {"plugin", "unix"}},
                                {{"name", "names10"}, {"plugin", "abi10-netbind"}},
                                {{"name", "names11"}, {"plugin", "abi11-netbind"}},
                                {{"name", "names12"}, {"plugin", "abi12-netbind"}},
                                {{"name", "echo10"}, {"plugin", "abi10-transport"}},
                                {{"name", "echo11"},
                                 {"plugin", "abi11-transport"},
                                 {"config", {{"bind_spec", "abi10-fixture"}}}},
                                {{"name", "echo12"},
                                 {"plugin", "abi12-transport"},
                                 {"config", {{"bind_spec", "abi11-fixture"}}}}});
  return json{{"plugins", {{"instances", instances}}}}.dump(2);
}

TEST(OldAbiPlugins, ListedAsLoadableWithTheAbiTheyWereBuiltFor) {
  auto r = run_command({gateway_bin(), "plugins", "--json", "--plugin-dir", VESPID_ABI_FIXTURE_DIR},
                       {}, 20s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json modules = json::parse(r.out)["modules"];
  for (const auto& old : kOldAbis) {
    SCOPED_TRACE(old.tag);
    const std::string name = std::string("vespid-") + old.tag + "-fixture";
    const json* found = nullptr;
    for (const auto& m : modules) {
      if (m.value("name", "") == name) found = &m;
    }
    ASSERT_NE(found, nullptr) << r.out;
    EXPECT_EQ((*found)["abi"], old.abi);
    EXPECT_EQ((*found)["loadable"], true) << (*found)["error"];
    EXPECT_EQ((*found)["plugins"].size(), 2u) << found->dump();
  }
}

TEST(OldAbiPlugins, TransportsCarryOperatorRequestsEndToEnd) {
  TempDir dir;
  write_file(dir.file("cfg.json"), fixture_config());
  GatewayProcess gw;
  gw.start(dir.file("state"),
           {"--config", dir.file("cfg.json"), "--plugin-dir", VESPID_ABI_FIXTURE_DIR});
  ASSERT_TRUE(gw.wait_ready());

  for (const auto& old : kOldAbis) {
    SCOPED_TRACE(old.tag);
    auto client = cli::OperatorClient::connect(dir.file("state/") + old.tag + ".sock");

    // One request: in through conn_recv, the answer out through the old table's `send`.
    json status = client.call("status", json::object(), 10s);
    bool seen = false;
    for (const auto& inst : status["instances"]) {
      if (inst["plugin"] == std::string(old.tag) + "-transport") {
        seen = true;
        EXPECT_EQ(inst["state"], "running") << inst.dump();
      }
    }
    EXPECT_TRUE(seen) << status.dump();

    // Several requests in one write: the host batches their replies, and a table from before
    // 1.2 has no send_batch, so every reply must still arrive, in order, through `send`.
    std::string burst;
    for (int i = 1; i <= 5; ++i) {
      burst += json{{"type", "req"},
                    {"id", "p" + std::to_string(i)},
                    {"method", "health"},
                    {"params", json::object()}}
                   .dump() +
               "\n";
    }
    client.send_raw(burst);
    for (int i = 1; i <= 5; ++i) {
      auto line = client.read_line(10s);
      ASSERT_TRUE(line.has_value()) << "reply " << i << " missing\n" << gw.log_text();
      json res = json::parse(*line);
      EXPECT_EQ(res["id"], "p" + std::to_string(i)) << *line;
      EXPECT_EQ(res["ok"], true) << *line;
    }
    client.close();
  }

  const std::string log = gw.log_text();
  EXPECT_NE(log.find("built for plugin ABI 1.0, host speaks 1."), std::string::npos) << log;
  EXPECT_NE(log.find("built for plugin ABI 1.1, host speaks 1."), std::string::npos) << log;
  EXPECT_NE(log.find("built for plugin ABI 1.2, host speaks 1."), std::string::npos) << log;
  EXPECT_NE(log.find("bind_watch(abi10-fixture): [127.0.0.10]"), std::string::npos) << log;
  EXPECT_NE(log.find("bind_watch(abi11-fixture): [127.0.0.11]"), std::string::npos) << log;
  EXPECT_NE(log.find("bus \"bus\" (local) up"), std::string::npos) << log;

  // stop and destroy of the old tables, with the gateway's exit status telling they finished.
  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
}

}  // namespace
}  // namespace vespid::test
