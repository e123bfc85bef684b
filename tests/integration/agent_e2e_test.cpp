// The real node host against the real gateway: `vespid-agent connect` pairs over REST, `start`
// holds the /ws connection, and internal dispatches run on it end to end (echo engine, echo
// connector), over plain WebSocket and over wss with a custom CA; revoking ends the host.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "background_process.hpp"
#include "node_host_support.hpp"
#include "process.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using AgentProcess = BackgroundProcess;  // a `vespid-agent start`

class RealAgent : public NodeHostGateway {
 protected:
  void SetUp() override { NodeHostGateway::SetUp(); }

  void start(bool tls) {
    if (tls) {
      ASSERT_TRUE(make_test_ca(dir_.path()));
      ws_config_extra_ = {
          {"tls", true}, {"cert_file", dir_.file("gw.pem")}, {"key_file", dir_.file("gw.key")}};
      agent_env_["VESPID_AGENT_TLS_CA_FILE"] = dir_.file("ca.pem");
    }
    start_gateway();
    bootstrap_identity();
    agent_env_["VESPID_AGENT_CONFIG"] = dir_.file("agent.json");
    agent_env_["VESPID_AGENT_ECHO_DELAY_MS"] = "0";
  }

  CommandResult agent(std::vector<std::string> args) {
    args.insert(args.begin(), VESPID_AGENT_BIN);
    return run_command(args, agent_env_);
  }

  CommandResult vespid(std::vector<std::string> args) {
    args.insert(args.begin(), {VESPID_CLI_BIN, "--state-dir", dir_.file("state")});
    return run_command(args);
  }

  std::unique_ptr<AgentProcess> start_agent() {
    return std::make_unique<AgentProcess>(
        std::vector<std::string>{VESPID_AGENT_BIN, "start", "--reconnect-max-ms", "1000"},
        agent_env_, dir_.file("agent.log"));
  }

  // alice's user id, found the way docs/cli.md tells an operator to find one.
  std::string alice_id() {
    CommandResult list = vespid({"--json", "user", "list", "--org", "acme"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    for (const auto& u : json::parse(list.out, nullptr, false).value("users", json::array())) {
      if (u.value("name", "") == "alice") return u.value("id", "");
    }
    ADD_FAILURE() << "no alice in " << list.out;
    return {};
  }

  std::string agent_id() {
    json creds = json::parse(read_file(dir_.file("agent.json")));
    return creds.value("agentId", "");
  }

  // Polls GET results until 200 (or gives up).
  HttpReply wait_result(const std::string& request_id) {
    HttpReply r;
    for (int i = 0; i < 200; ++i) {
      r = internal("GET", "/internal/v1/results/" + request_id);
      if (r.status == 200) break;
      std::this_thread::sleep_for(50ms);
    }
    return r;
  }

  void pair_and_run(bool tls) {
    start(tls);
    std::string pt = pairing_token(admin_token_);
    CommandResult c = agent({"connect", "--pairing-token", pt, "--api",
                             "http://127.0.0.1:" + std::to_string(api_port_), "--name", "e2e-host",
                             "--tags", "e2e"});
    ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
    auto host = start_agent();
    ASSERT_TRUE(wait_agent_status(agent_id(), "online")) << host->log();

    json body = dispatch_body(
        "e2e", 1,
        {{"selectorTag", "e2e"},
         {"payload", {{"engine", "vespid.echo.v1"}, {"message", "hello node host"}}}});
    HttpReply d = internal("POST", "/internal/v1/dispatch-async", body);
    ASSERT_EQ(d.status, 201) << d.raw_body;
    HttpReply r = wait_result(request_id("e2e"));
    ASSERT_EQ(r.status, 200) << r.raw_body << host->log();
    EXPECT_EQ(r.body["status"], "succeeded") << r.raw_body;
    EXPECT_EQ(r.body["output"]["text"], "hello node host") << r.raw_body;

    json connector = dispatch_body(
        "e2e-c", 1,
        {{"kind", "connector.action"},
         {"payload", {{"connectorId", "echo"}, {"actionId", "say"}, {"input", {{"x", 1}}}}}});
    ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", connector).status, 201);
    HttpReply rc = wait_result(request_id("e2e-c"));
    ASSERT_EQ(rc.status, 200);
    EXPECT_EQ(rc.body["output"]["input"]["x"], 1) << rc.raw_body;

    // The same by hand with the CLI over the admin socket. That socket acts for no user, so
    // the node host could not be told whom the work is for: the CLI asks for --user, saying how
    // to find one, and sends nothing.
    CommandResult nobody =
        vespid({"dispatch", "send", "--org", "acme", "--tag", "e2e", "--payload",
                R"({"engine":"vespid.echo.v1","message":"for nobody"})", "--wait"});
    EXPECT_EQ(nobody.exit_code, 1) << nobody.out << nobody.err;
    EXPECT_NE(nobody.err.find("--user is required"), std::string::npos) << nobody.err;
    EXPECT_NE(nobody.err.find("vespid user list --org acme"), std::string::npos) << nobody.err;
    // An id the gateway refuses is told as the option that carried it.
    CommandResult bad_run = vespid({"dispatch", "send", "--org", "acme", "--user", "alice",
                                    "--run-id", "u1", "--payload", "{}"});
    EXPECT_EQ(bad_run.exit_code, 1) << bad_run.out << bad_run.err;
    EXPECT_NE(bad_run.err.find("must be a uuid (8-4-4-4-12 hex digits"), std::string::npos)
        << bad_run.err;
    EXPECT_NE(bad_run.err.find("(--run-id)"), std::string::npos) << bad_run.err;

    // With --user (by name; an id works the same) the run and workflow ids are fresh uuids.
    CommandResult by_hand =
        vespid({"dispatch", "send", "--org", "acme", "--user", "alice", "--tag", "e2e", "--payload",
                R"({"engine":"vespid.echo.v1","message":"hi from the cli"})", "--wait", "--json"});
    EXPECT_EQ(by_hand.exit_code, 0) << by_hand.out << by_hand.err;
    const json answer = json::parse(by_hand.out, nullptr, false);
    EXPECT_EQ(answer["result"]["status"], "succeeded") << by_hand.out;
    EXPECT_EQ(answer["result"]["output"]["text"], "hi from the cli") << by_hand.out;
    const std::string rid = answer.value("requestId", "");
    EXPECT_EQ(rid.size(), 36u + std::string(":cli:1").size()) << rid;
    EXPECT_EQ(rid.substr(36), ":cli:1") << rid;
    CommandResult with_workflow =
        vespid({"dispatch", "send", "--org", "acme", "--user", alice_id(), "--workflow",
                "6F1C2B7E-8D4A-4B1E-9A53-2F7F0C1D9E88", "--payload",
                R"({"engine":"vespid.echo.v1","message":"by id"})", "--wait"});
    EXPECT_EQ(with_workflow.exit_code, 0) << with_workflow.out << with_workflow.err;
    EXPECT_NE(with_workflow.out.find("status: succeeded"), std::string::npos) << with_workflow.out;
    CommandResult failing =
        vespid({"dispatch", "send", "--org", "acme", "--user", "bob", "--payload",
                R"({"engine":"codex.sdk.v1","message":"x"})", "--wait"});
    EXPECT_EQ(failing.exit_code, 1) << "a failed result is exit 1: " << failing.out << failing.err;
    EXPECT_NE(failing.out.find("status: failed"), std::string::npos) << failing.out;
    // The node host's error once, with the other errors on stderr (issue 21 item 10).
    EXPECT_NE(failing.err.find("ENGINE_NOT_AVAILABLE"), std::string::npos) << failing.err;
    EXPECT_EQ(failing.out.find("ENGINE_NOT_AVAILABLE"), std::string::npos) << failing.out;
    CommandResult token = vespid({"agents", "pairing-token", "--org", "acme"});
    EXPECT_EQ(token.exit_code, 0) << token.err;
    EXPECT_EQ(token.out.rfind(org_id_ + ".", 0), 0u) << token.out;

    // Revoked: the gateway closes the socket, the host's reconnect is refused with
    // AGENT_REVOKED, and it exits (4) instead of retrying forever.
    HttpReply rv =
        rest("POST", "/v1/orgs/" + org_id_ + "/agents/" + agent_id() + "/revoke", admin_token_);
    ASSERT_EQ(rv.status, 200);
    EXPECT_EQ(host->wait_exit(20s), 4) << host->log();
    EXPECT_NE(host->log().find("AGENT_REVOKED"), std::string::npos) << host->log();
  }

  EnvOverrides agent_env_;
};

TEST_F(RealAgent, PairsRunsDispatchesAndStopsWhenRevoked) {
  pair_and_run(false);
}

TEST_F(RealAgent, SameOverWssWithACustomCa) {
  pair_and_run(true);
}

}  // namespace
}  // namespace vespid::test
