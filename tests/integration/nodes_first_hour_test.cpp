// Issue 21, "a newcomer's first hour", the nodes part, with the real binaries: the gateway,
// `vespid` on its admin socket and `vespid-agent`. Bridge nodes and node hosts told apart in
// `nodes list`/`describe`/`invoke` (point 3), re-approvals shown in the tables (point 3),
// `connect` twice refused, nodes deleted and addressed by name or id prefix (point 5), and
// `vespid-agent status` knowing whether `start` runs and is connected (point 10).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "bridge_client.hpp"
#include "node_host_support.hpp"
#include "process.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// `vespid-agent start` in the background; its log in a file.
class StartedAgent {
 public:
  StartedAgent(const std::string& config, const std::string& log) : log_(log) {
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_ = spawn({VESPID_AGENT_BIN, "start", "--config", config, "--reconnect-min-ms", "20",
                  "--reconnect-max-ms", "200", "--echo-delay-ms", "0"},
                 {}, in, out, out, {"VESPID_"});
    ::close(out);
    ::close(in);
  }
  ~StartedAgent() { signal(SIGKILL); }
  pid_t pid() const { return pid_; }
  void signal(int sig) {
    if (pid_ > 0 && exit_code_ < 0) ::kill(pid_, sig);
    if (sig == SIGKILL) wait_exit(5s);
  }
  // The exit code, or -1 while it still runs after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (exit_code_ < 0 && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = decode_wait_status(status);
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    return exit_code_;
  }
  std::string log() const { return read_file(log_); }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

class NodesFirstHour : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    bridge_port_ = pick_free_port();
    extra_instances_ = json::array(
        {{{"name", "bridge"}, {"plugin", "bridge"}, {"config", {{"port", bridge_port_}}}}});
    start_gateway();
    bootstrap_identity();
  }

  CommandResult vespid(std::vector<std::string> args) {
    args.insert(args.begin(), {VESPID_CLI_BIN, "--state-dir", dir_.file("state")});
    return run_command(args);
  }
  CommandResult agent(std::vector<std::string> args) {
    args.insert(args.begin(), VESPID_AGENT_BIN);
    return run_command(args);
  }
  // `vespid-agent connect` with a fresh pairing token into the credentials file `config`.
  CommandResult connect(const std::string& config, const std::string& name,
                        std::vector<std::string> extra = {}) {
    return connect_with(pairing_token(admin_token_), config, name, std::move(extra));
  }
  CommandResult connect_with(const std::string& token, const std::string& config,
                             const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"connect",
                                     "--config",
                                     config,
                                     "--pairing-token",
                                     token,
                                     "--api",
                                     "http://127.0.0.1:" + std::to_string(api_port_),
                                     "--name",
                                     name};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return agent(argv);
  }
  static std::string agent_id_in(const std::string& config) {
    return json::parse(read_file(config), nullptr, false).value("agentId", "");
  }

  // A bridge node paired into acme declaring `commands`; returns its token.
  std::string pair_bridge_node(BridgeClient& c, const std::string& node_id, const json& commands) {
    auto admin = cli::OperatorClient::connect(gw_.socket_path());
    c.pair_request(node_id, {{"displayName", node_id}, {"commands", commands}});
    const std::string request = pending_request_of(admin, node_id);
    admin.call("nodes.approve", {{"requestId", request}, {"org", "acme"}});
    auto ok = c.read_type("pair-ok", 5s);
    EXPECT_TRUE(ok) << "no pair-ok for " << node_id;
    return ok ? (*ok)["token"].get<std::string>() : "";
  }
  std::string pending_request_of(cli::OperatorClient& admin, const std::string& node_id) {
    for (int i = 0; i < 250; ++i) {
      const json pending = admin.call("nodes.pending");
      for (const auto& p : pending["pending"]) {
        if (p["nodeId"] == node_id) return p["requestId"];
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << node_id << " never showed up as pending";
    return "";
  }

  // Polls `vespid-agent status --json` until `ready` says so (or gives up).
  json wait_status(const std::string& config, const std::function<bool(const json&)>& ready) {
    json last;
    for (int i = 0; i < 250; ++i) {
      const CommandResult r = agent({"status", "--json", "--config", config});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      last = json::parse(r.out, nullptr, false);
      if (ready(last)) return last;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "status never got there; last: " << last.dump();
    return last;
  }
  // Polls `vespid nodes describe --json` until the node has `status`.
  bool wait_node_status(const std::string& node, const std::string& status) {
    for (int i = 0; i < 250; ++i) {
      const CommandResult r = vespid({"--json", "nodes", "describe", node});
      const json answer = json::parse(r.out, nullptr, false);
      if (answer.is_object() && answer["node"].value("status", "") == status) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  int bridge_port_ = 0;
};

// Point 3: one registry, two kinds, said plainly; invoking a node host says what to use instead;
// a re-approval of new commands shows in the tables, not only in --json.
TEST_F(NodesFirstHour, ListDescribeAndInvokeTellNodeHostsFromBridgeNodes) {
  auto phone = BridgeClient::connect("127.0.0.1", bridge_port_);
  const std::string phone_token =
      pair_bridge_node(phone, "phone-7d1e", json::array({"canvas.snapshot"}));
  ASSERT_FALSE(phone_token.empty());
  const std::string config = dir_.file("lab.json");
  ASSERT_EQ(connect(config, "lab-box").exit_code, 0);
  const std::string host_id = agent_id_in(config);

  const CommandResult list = vespid({"nodes", "list", "--org", "acme"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(contains(list.out, "KIND")) << list.out;
  EXPECT_FALSE(contains(list.out, "AWAITING APPROVAL")) << "no column while nothing waits";
  for (const auto& [id, kind] : {std::pair{host_id, "node host"}, {"phone-7d1e", "bridge node"}}) {
    const auto at = list.out.find(id);
    ASSERT_NE(at, std::string::npos) << list.out;
    const std::string row = list.out.substr(at, list.out.find('\n', at) - at);
    EXPECT_TRUE(contains(row, kind)) << row;
  }
  // `nodes watch` (which runs until interrupted: stopped here after a while) says up front that
  // node hosts never ask there.
  const CommandResult watched = run_command(
      {VESPID_CLI_BIN, "--state-dir", dir_.file("state"), "nodes", "watch"}, {}, 1500ms);
  EXPECT_TRUE(contains(watched.err, "waiting for pairing requests of bridge nodes")) << watched.err;
  EXPECT_TRUE(contains(watched.err, "node hosts (vespid-agent) pair with a pairing token instead"))
      << watched.err;
  const CommandResult described = vespid({"nodes", "describe", host_id});
  ASSERT_EQ(described.exit_code, 0) << described.err;
  EXPECT_TRUE(contains(described.out, "kind:")) << described.out;
  EXPECT_TRUE(contains(described.out, "node host")) << described.out;

  // Invoking a node host: not "did not declare the command", but what to do instead.
  const CommandResult invoked = vespid({"nodes", "invoke", host_id, "canvas.snapshot"});
  EXPECT_EQ(invoked.exit_code, 1) << invoked.out;
  EXPECT_TRUE(contains(invoked.err, "is a node host")) << invoked.err;
  EXPECT_TRUE(contains(invoked.err, "node hosts take work through dispatch and sessions"))
      << invoked.err;
  EXPECT_TRUE(contains(invoked.err, "vespid dispatch send --org acme --user USER")) << invoked.err;
  EXPECT_TRUE(contains(invoked.err, "--agent " + host_id)) << invoked.err;
  EXPECT_FALSE(contains(invoked.err, "did not declare")) << invoked.err;

  // The phone comes back declaring a new command: a re-approval waits for an operator.
  auto upgraded = BridgeClient::connect("127.0.0.1", bridge_port_);
  const json ok = upgraded.hello("phone-7d1e", phone_token,
                                 {{"commands", json::array({"canvas.snapshot", "camera.snap"})}});
  ASSERT_EQ(ok["type"], "hello-ok") << ok.dump();
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  const std::string request = pending_request_of(admin, "phone-7d1e");
  ASSERT_FALSE(request.empty());

  const CommandResult waiting = vespid({"nodes", "list"});
  ASSERT_EQ(waiting.exit_code, 0) << waiting.err;
  EXPECT_TRUE(contains(waiting.out, "AWAITING APPROVAL")) << waiting.out;
  EXPECT_TRUE(contains(waiting.out, "+camera.snap")) << waiting.out;
  EXPECT_TRUE(contains(waiting.out, "vespid nodes approve " + request)) << waiting.out;
  const CommandResult asking = vespid({"nodes", "describe", "phone-7d1e"});
  ASSERT_EQ(asking.exit_code, 0) << asking.err;
  EXPECT_TRUE(contains(asking.out, "awaiting approval:")) << asking.out;
  EXPECT_TRUE(contains(asking.out, "camera.snap (request " + request)) << asking.out;

  // Declined: describe says so from then on, and nothing waits any more.
  ASSERT_EQ(vespid({"nodes", "reject", request}).exit_code, 0);
  const CommandResult declined = vespid({"nodes", "describe", "phone-7d1e"});
  ASSERT_EQ(declined.exit_code, 0) << declined.err;
  EXPECT_TRUE(contains(declined.out, "declined:")) << declined.out;
  EXPECT_TRUE(contains(declined.out, "camera.snap")) << declined.out;
  EXPECT_FALSE(contains(declined.out, "awaiting approval:")) << declined.out;

  // Deleting a node takes its pending re-approval with it: approving that request finds nothing.
  auto again = BridgeClient::connect("127.0.0.1", bridge_port_);
  const json hello_again =
      again.hello("phone-7d1e", phone_token,
                  {{"commands", json::array({"canvas.snapshot", "camera.snap", "screen.record"})}});
  ASSERT_EQ(hello_again["type"], "hello-ok") << hello_again.dump();
  const std::string second_request = pending_request_of(admin, "phone-7d1e");
  ASSERT_FALSE(second_request.empty());
  ASSERT_NE(second_request, request);
  const CommandResult removed = vespid({"nodes", "rm", "--force", "phone-7d1e"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_TRUE(contains(removed.out, "deleted bridge node phone-7d1e (phone-7d1e); revoked it"))
      << removed.out;
  const CommandResult late = vespid({"nodes", "approve", second_request, "--org", "acme"});
  EXPECT_EQ(late.exit_code, 1);
  EXPECT_TRUE(contains(late.err, "NOT_FOUND")) << late.err;
  const CommandResult pending = vespid({"--json", "nodes", "pending"});
  EXPECT_EQ(json::parse(pending.out)["pending"], json::array()) << pending.out;
}

// Point 5: connect twice is refused without spending the token; --force replaces; nodes are
// addressed by name or id prefix (ambiguity lists the candidates) and deleted.
TEST_F(NodesFirstHour, ConnectTwiceIsRefusedAndStaleNodesAreDeletedByNameOrPrefix) {
  const std::string config = dir_.file("agent.json");
  ASSERT_EQ(connect(config, "lab-box").exit_code, 0);
  const std::string first_id = agent_id_in(config);

  const std::string token = pairing_token(admin_token_);
  const CommandResult again = connect_with(token, config, "lab-box");
  EXPECT_EQ(again.exit_code, 3) << again.out << again.err;
  EXPECT_TRUE(contains(again.err, "already paired as node host " + first_id)) << again.err;
  EXPECT_TRUE(contains(again.err, "vespid-agent connect --force")) << again.err;
  EXPECT_TRUE(contains(again.err, "vespid-agent start")) << again.err;
  EXPECT_TRUE(contains(again.err, "the pairing token was not used")) << again.err;
  EXPECT_EQ(agent_id_in(config), first_id) << "the saved identity is kept";
  // The refusal did not spend the token: it pairs another credentials file.
  const std::string other_config = dir_.file("other.json");
  ASSERT_EQ(connect_with(token, other_config, "other-box").exit_code, 0);

  const CommandResult forced = connect(config, "lab-box", {"--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  const std::string second_id = agent_id_in(config);
  EXPECT_NE(second_id, first_id);
  EXPECT_TRUE(contains(forced.err, "vespid nodes rm " + first_id)) << forced.err;

  // Two node hosts are called lab-box now: the name is ambiguous and the error lists both.
  const CommandResult by_name = vespid({"nodes", "describe", "lab-box"});
  EXPECT_EQ(by_name.exit_code, 1);
  EXPECT_TRUE(contains(by_name.err, "INVALID_REQUEST")) << by_name.err;
  EXPECT_TRUE(contains(by_name.err, "is the name of 2 nodes")) << by_name.err;
  EXPECT_TRUE(contains(by_name.err, first_id) && contains(by_name.err, second_id)) << by_name.err;
  // A unique name, and a unique id prefix, find their node.
  const CommandResult other = vespid({"--json", "nodes", "describe", "other-box"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_EQ(json::parse(other.out)["node"]["nodeId"], agent_id_in(other_config));
  const CommandResult by_prefix = vespid({"--json", "nodes", "describe", first_id.substr(0, 13)});
  ASSERT_EQ(by_prefix.exit_code, 0) << by_prefix.err;
  EXPECT_EQ(json::parse(by_prefix.out)["node"]["nodeId"], first_id);
  // A prefix of two bridge nodes' ids is ambiguous.
  auto a = BridgeClient::connect("127.0.0.1", bridge_port_);
  auto b = BridgeClient::connect("127.0.0.1", bridge_port_);
  pair_bridge_node(a, "phone-a", json::array());
  pair_bridge_node(b, "phone-b", json::array());
  const CommandResult prefix = vespid({"nodes", "rename", "phone-", "x"});
  EXPECT_EQ(prefix.exit_code, 1);
  EXPECT_TRUE(contains(prefix.err, "is the start of the ids of 2 nodes")) << prefix.err;
  EXPECT_TRUE(contains(prefix.err, "phone-a") && contains(prefix.err, "phone-b")) << prefix.err;
  const CommandResult nothing = vespid({"nodes", "describe", "no-such-node"});
  EXPECT_EQ(nothing.exit_code, 1);
  EXPECT_TRUE(contains(nothing.err, "NOT_FOUND")) << nothing.err;

  // The stale first identity goes, by prefix.
  const CommandResult removed = vespid({"nodes", "rm", first_id.substr(0, 13)});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(removed.out, "deleted node host " + first_id + " (lab-box)\n");
  const CommandResult gone = vespid({"nodes", "describe", first_id});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_TRUE(contains(gone.err, "NOT_FOUND")) << gone.err;
  EXPECT_FALSE(contains(vespid({"nodes", "list"}).out, first_id));

  // An online node host is not deleted by accident; --force revokes, disconnects and deletes.
  StartedAgent running(config, dir_.file("agent.log"));
  ASSERT_TRUE(wait_node_status("lab-box", "online")) << running.log();
  const CommandResult refused = vespid({"nodes", "delete", "lab-box"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(contains(refused.err, "CONFLICT")) << refused.err;
  EXPECT_TRUE(
      contains(refused.err, "is online: revoke it first (vespid nodes revoke " + second_id + ")"))
      << refused.err;
  EXPECT_TRUE(contains(refused.err, "vespid nodes rm --force " + second_id)) << refused.err;
  const CommandResult forced_rm = vespid({"nodes", "rm", "--force", "lab-box"});
  ASSERT_EQ(forced_rm.exit_code, 0) << forced_rm.err;
  EXPECT_EQ(forced_rm.out,
            "deleted node host " + second_id + " (lab-box); revoked it and closed 1 connection\n");
  // Its token is gone with it: the agent is refused and stops (exit 4, pair again).
  EXPECT_EQ(running.wait_exit(10s), 4) << running.log();

  // Revoke, then delete: the usual way for a node that is done.
  ASSERT_EQ(vespid({"nodes", "revoke", "other-box"}).exit_code, 0);
  const CommandResult after_revoke = vespid({"nodes", "rm", "other-box"});
  EXPECT_EQ(after_revoke.exit_code, 0) << after_revoke.err;
}

// Point 10: status says whether `start` runs for these credentials and where it is connected,
// and tells a file left by a killed agent from a running one.
TEST_F(NodesFirstHour, AgentStatusKnowsWhetherStartRunsAndIsConnected) {
  const std::string config = dir_.file("agent.json");
  ASSERT_EQ(connect(config, "lab-box").exit_code, 0);
  const CommandResult idle = agent({"status", "--config", config});
  ASSERT_EQ(idle.exit_code, 0) << idle.err;
  EXPECT_TRUE(contains(idle.out, "agent:        not running (start it: vespid-agent start"))
      << idle.out;
  const CommandResult idle_json = agent({"status", "--json", "--config", config});
  ASSERT_EQ(idle_json.exit_code, 0) << idle_json.err;
  EXPECT_EQ(json::parse(idle_json.out)["process"]["running"], false) << idle_json.out;

  const std::string ws_url = "ws://127.0.0.1:" + std::to_string(ws_port_) + "/ws";
  auto running = std::make_unique<StartedAgent>(config, dir_.file("agent.log"));
  json up =
      wait_status(config, [](const json& s) { return s["process"].value("connected", false); });
  EXPECT_EQ(up["process"]["running"], true);
  EXPECT_EQ(up["process"]["pid"], running->pid());
  EXPECT_EQ(up["process"]["gatewayUrl"], ws_url);
  EXPECT_FALSE(up["process"].value("connectedSince", "").empty()) << up.dump();
  const CommandResult text = agent({"status", "--config", config});
  EXPECT_TRUE(contains(text.out, "running (pid " + std::to_string(running->pid()))) << text.out;
  EXPECT_TRUE(contains(text.out, "connected to " + ws_url + " since")) << text.out;

  // One token, one connection: a second start on the same credentials is refused.
  const CommandResult twice = agent({"start", "--config", config});
  EXPECT_EQ(twice.exit_code, 3);
  EXPECT_TRUE(contains(twice.err, "already running for " + config)) << twice.err;

  // The gateway goes away: still running, no longer connected.
  ASSERT_EQ(gw_.terminate(), 0);
  json down =
      wait_status(config, [](const json& s) { return !s["process"].value("connected", true); });
  EXPECT_EQ(down["process"]["running"], true) << down.dump();
  EXPECT_TRUE(contains(agent({"status", "--config", config}).out, "not connected to the gateway"));
  start_gateway();

  // A clean stop removes the state file.
  running->signal(SIGTERM);
  EXPECT_EQ(running->wait_exit(10s), 0) << running->log();
  EXPECT_FALSE(file_exists(dir_.file("agent.state.json")));
  EXPECT_TRUE(contains(agent({"status", "--config", config}).out, "not running (start it"));

  // Killed outright, the file stays and is recognised as stale by the pid.
  running = std::make_unique<StartedAgent>(config, dir_.file("agent.log"));
  wait_status(config, [](const json& s) { return s["process"].value("connected", false); });
  const pid_t killed = running->pid();
  running->signal(SIGKILL);
  ASSERT_TRUE(file_exists(dir_.file("agent.state.json")));
  const CommandResult stale = agent({"status", "--config", config});
  EXPECT_TRUE(contains(stale.out, "not running: pid " + std::to_string(killed))) << stale.out;
  const json stale_json = json::parse(agent({"status", "--json", "--config", config}).out);
  EXPECT_EQ(stale_json["process"]["running"], false);
  EXPECT_EQ(stale_json["process"]["stale"], true);
  EXPECT_EQ(stale_json["process"]["connected"], false);
  // A pid that lives but is another program now (the kernel reused it) is stale too.
  std::ofstream(dir_.file("agent.state.json")) << json{
      {"pid", ::getpid()},
      {"startedAt", "2026-01-01T00:00:00.000Z"},
      {"connected", true},
      {"gatewayUrl", ws_url}}.dump();
  const json reused = json::parse(agent({"status", "--json", "--config", config}).out);
  EXPECT_EQ(reused["process"]["running"], false) << reused.dump();
  EXPECT_EQ(reused["process"]["stale"], true) << reused.dump();
  // ...and does not stop the next start.
  running = std::make_unique<StartedAgent>(config, dir_.file("agent.log"));
  json again =
      wait_status(config, [](const json& s) { return s["process"].value("connected", false); });
  EXPECT_EQ(again["process"]["pid"], running->pid());
}

}  // namespace
}  // namespace vespid::test
