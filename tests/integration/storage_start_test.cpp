// What the gateway says about its store at start: the revision the store has reached (not 0),
// and a database it cannot write stops start-up with a message naming the file and the cause,
// instead of a gateway that reports itself ready and fails every write.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "gateway_process.hpp"
#include "operator_client.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;

constexpr unsigned kNobody = 65534;

uint64_t revision_of(cli::OperatorClient& c) {
  json status = c.call("status");
  return status["storage"]["revision"].get<uint64_t>();
}

// Starts a gateway on `state`, creates org `org`, stops it; returns the revision it reported.
uint64_t run_once_creating(const std::string& state, const std::string& org) {
  GatewayProcess gw;
  gw.start(state);
  EXPECT_TRUE(gw.wait_ready());
  auto c = cli::OperatorClient::connect(gw.socket_path());
  c.call("orgs.create", {{"name", org}});
  uint64_t revision = revision_of(c);
  c.close();
  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
  return revision;
}

TEST(StorageStart, ARestartedGatewayReportsTheRevisionItReached) {
  TempDir dir;
  const std::string state = dir.file("state");
  const uint64_t before = run_once_creating(state, "acme");
  ASSERT_GT(before, 0u);

  GatewayProcess gw;
  gw.start(state);
  ASSERT_TRUE(gw.wait_ready());
  auto c = cli::OperatorClient::connect(gw.socket_path());
  const uint64_t after_restart = revision_of(c);
  EXPECT_GE(after_restart, before) << "status must not report revision 0 after a restart";
  EXPECT_NE(gw.log_text().find("ready (schema 1, revision " + std::to_string(after_restart) + ")"),
            std::string::npos)
      << gw.log_text();
  c.call("orgs.create", {{"name", "beta"}});
  EXPECT_GT(revision_of(c), after_restart);
}

void chown_tree(const std::filesystem::path& root, unsigned uid) {
  ASSERT_EQ(::chown(root.c_str(), uid, uid), 0) << root;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    ASSERT_EQ(::lchown(e.path().c_str(), uid, uid), 0) << e.path();
  }
}

TEST(StorageStart, AReadOnlyDatabaseStopsStartUpNamingTheFileAndTheCause) {
  TempDir dir;
  const std::string state = dir.file("state");
  const std::string db = state + "/vespid.db";
  const uint64_t before = run_once_creating(state, "acme");

  GatewayProcess gw;
  if (::geteuid() == 0) {
    // Mode bits do not stop root (CI runs as root): run the gateway as an unprivileged user
    // that owns the state directory.
    ASSERT_EQ(::chown(dir.path().c_str(), kNobody, kNobody), 0);
    chown_tree(state, kNobody);
    gw.set_launcher({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  }
  ASSERT_EQ(::chmod(db.c_str(), 0444), 0);
  gw.start(state);
  EXPECT_EQ(gw.wait_exit(std::chrono::seconds(30)), 7) << "exit code 7: storage\n" << gw.log_text();
  const std::string log = gw.log_text();
  EXPECT_NE(log.find("\"" + db + "\" can only be opened read-only (Permission denied)"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find(" ready ("), std::string::npos) << "it must not have said ready: " << log;

  // Writable again: everything is there, and the revision goes on from where it was.
  ASSERT_EQ(::chmod(db.c_str(), 0644), 0);
  gw.start(state);
  ASSERT_TRUE(gw.wait_ready());
  auto c = cli::OperatorClient::connect(gw.socket_path());
  json orgs = c.call("orgs.list");
  ASSERT_EQ(orgs["orgs"].size(), 1u) << orgs.dump();
  EXPECT_EQ(orgs["orgs"][0]["name"], "acme");
  EXPECT_GE(revision_of(c), before);
  c.close();
  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
}

}  // namespace
}  // namespace vespid::test
