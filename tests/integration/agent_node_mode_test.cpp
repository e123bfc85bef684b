// `vespid-agent node start` as a bridge node against the real gateway (issue 18): it pairs over
// a TLS bridge with the gateway's certificate pinned, an operator approves it with the real CLI,
// and `vespid nodes invoke ... system.run` runs an allowed executable on it. A disallowed one is
// refused, a wrong pin never gets as far as hello, a restart reuses the token, a revoke stops it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "background_process.hpp"
#include "build_paths.hpp"
#include "gateway_process.hpp"
#include "operator_client.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class AgentNodeMode : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_port_ = pick_free_port();
    json cfg = {
        {"plugins",
         {{"instances", json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                                     {{"name", "local"}, {"plugin", "unix"}},
                                     {{"name", "bridge-tls"},
                                      {"plugin", "bridge"},
                                      {"config", {{"port", bridge_port_}, {"tls", true}}}}})}}}};
    std::ofstream(dir_.file("cfg.json")) << cfg.dump(2);
    gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")});
    ASSERT_TRUE(gw_.wait_ready());
    auto admin = cli::OperatorClient::connect(gw_.socket_path());
    admin.call("orgs.create", {{"name", "acme"}});
    CommandResult fp =
        run_command({gateway_bin(), "tls", "fingerprint", "--state-dir", gw_.state_dir()});
    ASSERT_EQ(fp.exit_code, 0) << fp.err;
    fingerprint_ = fp.out.substr(0, 64);
    ASSERT_EQ(fingerprint_.size(), 64u) << fp.out;
  }

  CommandResult vespid(std::vector<std::string> args) {
    args.insert(args.begin(), {cli_bin(), "--state-dir", gw_.state_dir()});
    return run_command(args, {}, 60s);
  }

  std::unique_ptr<BackgroundProcess> start_node(const std::string& pin,
                                                std::vector<std::string> extra = {},
                                                const std::string& log = "node.log",
                                                const std::string& state = "node/node.json") {
    std::vector<std::string> argv = {VESPID_AGENT_BIN,
                                     "node",
                                     "start",
                                     "--host",
                                     "127.0.0.1",
                                     "--port",
                                     std::to_string(bridge_port_),
                                     "--state-file",
                                     dir_.file(state),
                                     "--name",
                                     "lab-node",
                                     "--reconnect-min-ms",
                                     "50",
                                     "--reconnect-max-ms",
                                     "300"};
    if (!pin.empty()) argv.insert(argv.end(), {"--tls-fingerprint", pin});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<BackgroundProcess>(argv, EnvOverrides{}, dir_.file(log));
  }

  std::string state_file() const { return dir_.file("node/node.json"); }
  json node_state() { return json::parse(read_file(state_file()), nullptr, false); }

  json pending() {
    CommandResult r = vespid({"--json", "nodes", "pending"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false).value("pending", json::array());
  }

  // The request of the node named lab-node, once it shows up.
  json wait_pending() {
    for (int i = 0; i < 200; ++i) {
      for (const auto& p : pending()) {
        if (p.value("displayName", "") == "lab-node") return p;
      }
      std::this_thread::sleep_for(50ms);
    }
    return nullptr;
  }

  static bool wait_log(const BackgroundProcess& p, const std::string& text,
                       std::chrono::milliseconds timeout = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (p.log().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  static size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  CommandResult invoke(const std::string& node, const std::string& command, const json& params) {
    return vespid({"nodes", "invoke", node, command, "--params", params.dump()});
  }

  TempDir dir_;
  GatewayProcess gw_;
  int bridge_port_ = 0;
  std::string fingerprint_;
};

TEST_F(AgentNodeMode, PairsOverPinnedTlsRunsThroughTheCliAndStopsWhenRevoked) {
  auto node = start_node(fingerprint_, {"--allow", "echo"});

  // First run: pair-request on the socket, and the operator is told what to run.
  json request = wait_pending();
  ASSERT_TRUE(request.is_object()) << node->log();
  const std::string node_id = request.value("nodeId", "");
  EXPECT_EQ(request["commands"], json::array({"system.run", "system.which"})) << request.dump();
  EXPECT_TRUE(wait_log(*node, "vespid nodes approve <requestId> --org ORG")) << node->log();
  EXPECT_NE(node->log().find("vespid nodes pending"), std::string::npos) << node->log();
  json saved = node_state();
  EXPECT_EQ(saved.value("nodeId", ""), node_id) << "the node id is saved before pairing";
  EXPECT_FALSE(saved.contains("token"));
  struct stat st {};
  ASSERT_EQ(::stat(state_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the state file holds the token: owner only";

  CommandResult approve =
      vespid({"nodes", "approve", request.value("requestId", ""), "--org", "acme"});
  ASSERT_EQ(approve.exit_code, 0) << approve.out << approve.err;
  ASSERT_TRUE(wait_log(*node, "connected to tls://127.0.0.1:")) << node->log();
  const std::string token = node_state().value("token", "");
  ASSERT_EQ(token.size(), 43u) << "pair-ok's token saved";
  EXPECT_EQ(node->log().find(token), std::string::npos) << "the token is never logged";
  CommandResult status =
      run_command({VESPID_AGENT_BIN, "node", "status", "--state-file", state_file(), "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const json st_json = json::parse(status.out, nullptr, false);
  EXPECT_EQ(st_json.value("nodeId", ""), node_id) << status.out;
  EXPECT_EQ(st_json.value("paired", false), true) << status.out;
  EXPECT_EQ(st_json.value("running", false), true) << status.out;
  EXPECT_EQ(st_json.value("connected", false), true) << status.out;
  EXPECT_EQ(status.out.find(token), std::string::npos) << "status never shows the token";

  // system.run through the CLI: the echo runs on the node, its stdout comes back.
  CommandResult run = invoke(node_id, "system.run", {{"command", {"echo", "hello", "bridge"}}});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << node->log();
  json out = json::parse(run.out, nullptr, false);
  EXPECT_EQ(out.value("stdout", ""), "hello bridge\n") << run.out;
  EXPECT_EQ(out.value("exitCode", -1), 0) << run.out;
  EXPECT_EQ(out.value("success", false), true) << run.out;
  EXPECT_EQ(out.value("timedOut", true), false) << run.out;
  EXPECT_EQ(out.value("truncated", true), false) << run.out;

  // Not on the allowlist: refused in the bridge's own error form, naming the flag.
  CommandResult denied = invoke(node_id, "system.run", {{"command", {"ls", "/"}}});
  EXPECT_EQ(denied.exit_code, 1) << denied.out << denied.err;
  EXPECT_NE(denied.err.find("SYSTEM_RUN_DENIED"), std::string::npos) << denied.err;
  EXPECT_NE(denied.err.find("--allow"), std::string::npos) << denied.err;
  EXPECT_NE(denied.err.find("UNAVAILABLE"), std::string::npos) << denied.err;
  CommandResult shell = invoke(node_id, "system.run", {{"command", {"sh", "-c", "echo hi"}}});
  EXPECT_EQ(shell.exit_code, 1) << "no shell unless allowed: " << shell.out;

  // system.which answers for allowed executables only.
  CommandResult which = invoke(node_id, "system.which", {{"bins", {"echo", "ls"}}});
  ASSERT_EQ(which.exit_code, 0) << which.err;
  json bins = json::parse(which.out, nullptr, false).value("bins", json::object());
  ASSERT_TRUE(bins.contains("echo")) << which.out;
  EXPECT_EQ(bins["echo"].get<std::string>().front(), '/') << which.out;
  EXPECT_FALSE(bins.contains("ls")) << which.out;

  // The gateway restarts: the node dials again with backoff and says hello with its token.
  ASSERT_EQ(gw_.terminate(), 0);
  gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")});
  ASSERT_TRUE(gw_.wait_ready());
  ASSERT_TRUE(wait_log(*node, "reconnecting in")) << node->log();
  for (int i = 0; i < 100 && count(node->log(), "connected to tls://") < 2; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(count(node->log(), "connected to tls://"), 2u) << node->log();
  EXPECT_TRUE(pending().empty()) << "reconnects reuse the token";
  CommandResult after = invoke(node_id, "system.run", {{"command", {"echo", "back"}}});
  ASSERT_EQ(after.exit_code, 0) << after.err << node->log();
  EXPECT_EQ(json::parse(after.out, nullptr, false).value("stdout", ""), "back\n");

  // Restart: the saved token says hello; no new pairing request.
  node->signal(SIGTERM);
  ASSERT_EQ(node->wait_exit(10s), 0) << node->log();
  auto again = start_node(fingerprint_, {"--allow", "echo"}, "node2.log");
  ASSERT_TRUE(wait_log(*again, "connected to tls://127.0.0.1:")) << again->log();
  EXPECT_EQ(again->log().find("waiting for an operator"), std::string::npos) << again->log();
  EXPECT_TRUE(pending().empty()) << "a restart reuses the token";
  EXPECT_EQ(node_state().value("nodeId", ""), node_id);
  CommandResult run2 = invoke(node_id, "system.run", {{"command", {"echo", "again"}}});
  ASSERT_EQ(run2.exit_code, 0) << run2.err << again->log();
  EXPECT_EQ(json::parse(run2.out, nullptr, false).value("stdout", ""), "again\n");

  // Revoked: the gateway closes the socket, refuses the token on the next hello, and the node
  // stops with the documented exit code and message instead of asking to pair again.
  CommandResult revoke = vespid({"nodes", "revoke", node_id});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_EQ(again->wait_exit(20s), 4) << again->log();
  EXPECT_NE(again->log().find("was revoked"), std::string::npos) << again->log();
  EXPECT_NE(again->log().find("--pair-again"), std::string::npos) << again->log();
  EXPECT_TRUE(pending().empty()) << "a revoked node does not ask again by itself";
}

TEST_F(AgentNodeMode, AWrongFingerprintIsRefusedBeforeHello) {
  auto node = start_node(std::string(64, '0'), {"--allow", "echo"});
  ASSERT_TRUE(wait_log(*node, "is not the pinned one")) << node->log();
  // It names what it saw, so an operator can compare with `vespid-gateway tls fingerprint`.
  EXPECT_NE(node->log().find("presented sha256 " + fingerprint_), std::string::npos) << node->log();
  // It keeps trying (the real gateway may come back) but never said hello: a hello would have
  // been answered NOT_PAIRED and turned into a pairing request.
  ASSERT_TRUE(wait_log(*node, "reconnecting in")) << node->log();
  ASSERT_TRUE(wait_log(*node, "attempt 3")) << node->log();
  EXPECT_EQ(node->wait_exit(100ms), -1) << node->log();
  EXPECT_TRUE(pending().empty());
  EXPECT_EQ(node->log().find("waiting for an operator"), std::string::npos) << node->log();
  EXPECT_FALSE(node_state().contains("token"));

  // TLS without a pin verifies against CAs: the gateway's self-signed certificate fails.
  auto unpinned = start_node("", {"--tls"}, "unpinned.log", "unpinned/node.json");
  ASSERT_TRUE(wait_log(*unpinned, "certificate verify failed")) << unpinned->log();
  EXPECT_TRUE(pending().empty());

  // And the right pin pairs (what the refusals above are measured against).
  node->signal(SIGTERM);
  unpinned->signal(SIGTERM);
  EXPECT_EQ(node->wait_exit(10s), 0);
  EXPECT_EQ(unpinned->wait_exit(10s), 0);
  auto good = start_node(fingerprint_, {}, "good.log");
  EXPECT_TRUE(wait_pending().is_object()) << good->log();
}

TEST_F(AgentNodeMode, NothingRunsWithoutAnAllowlist) {
  auto node = start_node(fingerprint_);
  json request = wait_pending();
  ASSERT_TRUE(request.is_object()) << node->log();
  ASSERT_EQ(vespid({"nodes", "approve", request.value("requestId", ""), "--org", "acme"}).exit_code,
            0);
  ASSERT_TRUE(wait_log(*node, "connected to tls://")) << node->log();
  EXPECT_NE(node->log().find("allowlist empty"), std::string::npos) << node->log();
  CommandResult r = invoke(request.value("nodeId", ""), "system.run", {{"command", {"echo", "x"}}});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("allows no executables"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow"), std::string::npos) << r.err;
  // Bad arguments are the caller's error, in the bridge's form.
  CommandResult bad = invoke(request.value("nodeId", ""), "system.run", {{"command", "echo x"}});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("INVALID_REQUEST"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace vespid::test
