// Workflows end to end (issue 16): two real `vespid-worker` processes, two real `vespid-agent`
// node hosts picked by tag, the real CLI. A v3 workflow branches on a condition; the worker
// holding the run is killed with SIGKILL while a node host runs its node, and the other worker
// finishes the run: no node executed twice (counted in the hosts' own logs), the event log
// complete and gap-free.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <thread>

#include "background_process.hpp"
#include "build_paths.hpp"
#include "node_host_support.hpp"
#include "process.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// An agent.run node on the node hosts tagged `tag`, answered by the echo engine (it says the
// run input's "message" back, a word at a time).
json host_node(const std::string& id, const std::string& tag) {
  return {{"id", id},
          {"type", "agent.run"},
          {"config",
           {{"llm", {{"provider", "openai"}}},
            {"engine", {{"id", "vespid.echo.v1"}}},
            {"execution", {{"mode", "node"}, {"selector", {{"tag", tag}}}}},
            {"prompt", {{"instructions", "Say the message back."}}},
            {"limits", {{"timeoutMs", 60000}}}}}};
}

// check: input.route == "alpha"? yes: on_alpha (host alpha), then finish (host beta);
// no: on_beta (host beta). With route "alpha", on_beta is skipped.
json branching_spec() {
  return {
      {"version", "v3"},
      {"trigger", {{"type", "trigger.manual"}}},
      {"graph",
       {{"nodes",
         {{"check",
           {{"id", "check"},
            {"type", "condition"},
            {"config", {{"path", "route"}, {"op", "eq"}, {"value", "alpha"}}}}},
          {"on_alpha", host_node("on_alpha", "alpha")},
          {"on_beta", host_node("on_beta", "beta")},
          {"finish", host_node("finish", "beta")}}},
        {"edges",
         json::array({{{"id", "e1"}, {"from", "check"}, {"to", "on_alpha"}, {"kind", "cond_true"}},
                      {{"id", "e2"}, {"from", "check"}, {"to", "on_beta"}, {"kind", "cond_false"}},
                      {{"id", "e3"}, {"from", "on_alpha"}, {"to", "finish"}}})}}}};
}

class WorkerE2E : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    start_gateway();
    bootstrap_identity();
  }

  // The CLI as a member (who runs and follows workflows) or, with `as_admin`, an admin (who
  // writes and publishes them).
  CommandResult vespid(std::vector<std::string> args, bool as_admin = false) {
    args.insert(args.begin(), cli_bin());
    return run_command(args, {{"VESPID_API", "http://127.0.0.1:" + std::to_string(api_port_)},
                              {"VESPID_ORG", org_id_},
                              {"VESPID_TOKEN", as_admin ? admin_token_ : member_token_}});
  }

  // Pairs a node host with `vespid-agent connect` and starts it; its log counts executions.
  std::unique_ptr<BackgroundProcess> start_host(const std::string& name, const std::string& tag) {
    EnvOverrides env = {{"VESPID_AGENT_CONFIG", dir_.file(name + ".json")},
                        // Slow enough (a few seconds a node) to kill a worker in the middle.
                        {"VESPID_AGENT_ECHO_DELAY_MS", "300"}};
    CommandResult c = run_command(
        {VESPID_AGENT_BIN, "connect", "--pairing-token", pairing_token(admin_token_), "--api",
         "http://127.0.0.1:" + std::to_string(api_port_), "--name", name, "--tags", tag},
        env);
    EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
    auto host = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{VESPID_AGENT_BIN, "start", "--reconnect-max-ms", "1000"}, env,
        dir_.file(name + ".log"));
    json creds = json::parse(read_file(dir_.file(name + ".json")));
    EXPECT_TRUE(wait_agent_status(creds.value("agentId", ""), "online")) << host->log();
    return host;
  }

  std::unique_ptr<BackgroundProcess> start_worker(const std::string& id) {
    return std::make_unique<BackgroundProcess>(
        std::vector<std::string>{VESPID_WORKER_BIN, "--gateway",
                                 "http://127.0.0.1:" + std::to_string(api_port_), "--id", id,
                                 "--lease-ms", "2000", "--concurrency", "2"},
        EnvOverrides{{"VESPID_INTERNAL_TOKEN", kServiceToken}}, dir_.file(id + ".log"));
  }

  std::string publish(const json& spec) {
    const std::string file = dir_.file("spec.json");
    std::ofstream(file) << spec.dump();
    CommandResult c = vespid({"workflow", "create", "--name", "branching", "--spec", file}, true);
    EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
    std::string id = c.out.substr(0, c.out.find('\n'));
    CommandResult p = vespid({"workflow", "publish", id}, true);
    EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
    return id;
  }

  json run_of(const std::string& wf, const std::string& run) {
    return rest("GET", "/v1/orgs/" + org_id_ + "/workflows/" + wf + "/runs/" + run, member_token_)
        .body["run"];
  }
  json events_of(const std::string& wf, const std::string& run) {
    return rest("GET",
                "/v1/orgs/" + org_id_ + "/workflows/" + wf + "/runs/" + run + "/events?limit=1000",
                member_token_)
        .body["events"];
  }
};

// How many times a node host started the dispatch `request_id` (its log line per execution).
size_t executions(const std::string& host_log, const std::string& request_id) {
  const std::string needle = "execute " + request_id + " (";
  size_t n = 0;
  for (size_t at = host_log.find(needle); at != std::string::npos;
       at = host_log.find(needle, at + 1)) {
    if (host_log.compare(at + needle.size(), 9, "agent.run") == 0) ++n;
  }
  return n;
}

TEST_F(WorkerE2E, AKilledWorkersRunIsFinishedByTheOtherWithNoNodeRunTwice) {
  auto alpha = start_host("alpha-host", "alpha");
  auto beta = start_host("beta-host", "beta");
  std::map<std::string, std::unique_ptr<BackgroundProcess>> workers;
  workers["worker-1"] = start_worker("worker-1");
  workers["worker-2"] = start_worker("worker-2");
  const std::string wf = publish(branching_spec());

  const std::string message = "one two three four five six seven eight nine ten";
  CommandResult started = vespid(
      {"workflow", "run", wf, "--input", json{{"route", "alpha"}, {"message", message}}.dump()});
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  const std::string run = started.out.substr(0, started.out.find('\n'));

  // Wait until on_alpha is on its node host, then kill the worker holding the run.
  std::string holder;
  for (int i = 0; i < 300 && holder.empty(); ++i) {
    for (const auto& e : events_of(wf, run)) {
      if (e.value("eventType", "") == "node_dispatched" && e.value("nodeId", "") == "on_alpha")
        holder = run_of(wf, run).value("leaseOwner", "");
    }
    if (holder.empty()) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(workers.count(holder)) << "no worker held the run: " << events_of(wf, run).dump();
  workers[holder]->kill_now();
  const std::string survivor = holder == "worker-1" ? "worker-2" : "worker-1";

  // The CLI follows the run to its end; exit 0 means it succeeded.
  CommandResult followed = vespid({"workflow", "events", wf, run, "--follow"});
  EXPECT_EQ(followed.exit_code, 0) << followed.out << followed.err << workers[survivor]->log();
  json r = run_of(wf, run);
  EXPECT_EQ(r["status"], "succeeded") << r.dump();
  EXPECT_EQ(r["attemptCount"], 1);
  EXPECT_EQ(r["output"]["on_alpha"]["text"], message) << r["output"].dump();

  json log = events_of(wf, run);
  for (size_t i = 0; i < log.size(); ++i) ASSERT_EQ(log[i]["seq"], i + 1) << log.dump(1);
  bool taken_over = false, skipped = false;
  std::map<std::string, int> succeeded;
  for (const auto& e : log) {
    const std::string type = e["eventType"];
    // The survivor takes the run over from the killed worker. (A claim the killed worker had
    // waiting may be answered first, to nobody: that costs one more lease, not correctness.)
    if (type == "run_claimed" && e["payload"].value("takeover", false) &&
        e["payload"]["workerId"] == survivor) {
      taken_over = true;
      EXPECT_EQ(e["payload"]["previousWorkerId"], holder) << log.dump(1);
    }
    if (type == "node_skipped" && e["nodeId"] == "on_beta") skipped = true;
    if (type == "node_succeeded") ++succeeded[e.value("nodeId", "")];
  }
  EXPECT_TRUE(taken_over) << log.dump(1);
  EXPECT_TRUE(skipped) << log.dump(1);
  EXPECT_EQ(succeeded["check"], 1);
  EXPECT_EQ(succeeded["on_alpha"], 1);
  EXPECT_EQ(succeeded["finish"], 1);
  EXPECT_EQ(succeeded["on_beta"], 0);
  EXPECT_EQ(log.back()["eventType"], "run_succeeded");

  // Each host ran its node once, the skipped branch nowhere, though two workers asked.
  EXPECT_EQ(executions(alpha->log(), run + ":on_alpha:1"), 1u) << alpha->log();
  EXPECT_EQ(executions(beta->log(), run + ":finish:1"), 1u) << beta->log();
  EXPECT_EQ(executions(beta->log(), run + ":on_beta:1"), 0u) << beta->log();
  EXPECT_EQ(executions(alpha->log(), run + ":finish:1"), 0u);
}

TEST_F(WorkerE2E, TheCliWaitsForARunAndSaysHowItEnded) {
  auto beta = start_host("beta-host", "beta");
  auto worker = start_worker("worker-1");
  const std::string wf = publish(branching_spec());
  // route "beta": the condition is false, on_beta runs; its host answers.
  CommandResult ok =
      vespid({"workflow", "run", wf, "--input", R"({"route": "beta", "message": "hi"})", "--wait",
              "--timeout", "120"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("node_skipped  on_alpha"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("run_succeeded"), std::string::npos) << ok.out;

  // route "alpha" needs a host tagged alpha, and there is none: every attempt fails with
  // NO_AGENT_AVAILABLE, and the CLI says so with exit 1.
  CommandResult failed =
      vespid({"workflow", "run", wf, "--input", R"({"route": "alpha", "message": "hi"})", "--wait",
              "--timeout", "120"});
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_NE(failed.err.find("RUN_FAILED"), std::string::npos) << failed.err;
  EXPECT_NE(failed.out.find("NO_AGENT_AVAILABLE"), std::string::npos) << failed.out;
  EXPECT_NE(failed.out.find("run_retried"), std::string::npos) << failed.out;
}

// A node slower than its own timeout: the run fails with a timeout after its attempts, each
// retried with backoff. Both ends keep the node's timeout. The gateway ends the dispatch at 1 s
// with NODE_EXECUTION_TIMEOUT, and the host's echo engine (300 ms a word) stops itself at its
// next word, about 0.2 s later, with its own "TIMEOUT: ...". A host's answer replaces the
// gateway's timeout result when it comes (the host's word on its own work is kept), so a worker
// that reads the result after that sees the host's; on a busy machine that happens. Either way
// the error names a timeout.
TEST_F(WorkerE2E, ANodeThatOutlivesItsTimeoutFailsTheRunAfterItsAttempts) {
  auto beta = start_host("beta-host", "beta");
  auto worker = start_worker("worker-1");
  json slow = host_node("slow", "beta");
  slow["config"]["limits"]["timeoutMs"] = 1000;  // the echo would take about 6 s
  const std::string wf = publish({{"version", "v2"},
                                  {"trigger", {{"type", "trigger.manual"}}},
                                  {"nodes", json::array({slow})}});
  json input = {{"message", "a b c d e f g h i j k l m n o p q r s t u"}};
  CommandResult r =
      vespid({"workflow", "run", wf, "--input", input.dump(), "--wait", "--timeout", "120"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("TIMEOUT"), std::string::npos) << r.out;
  CommandResult runs = vespid({"--json", "workflow", "runs", wf});
  json listed = json::parse(runs.out, nullptr, false);
  ASSERT_TRUE(listed.is_object()) << runs.out << runs.err;
  ASSERT_EQ(listed["runs"].size(), 1u);
  EXPECT_EQ(listed["runs"][0]["status"], "failed");
  EXPECT_EQ(listed["runs"][0]["attemptCount"], 3);  // workflows.max_attempts
  const std::string error = listed["runs"][0].value("error", "");
  EXPECT_NE(error.find("TIMEOUT"), std::string::npos) << listed["runs"][0].dump() << "\n" << r.out;
}

TEST_F(WorkerE2E, AWorkerWithoutTheTokenSaysWhatIsMissing) {
  CommandResult r =
      run_command({VESPID_WORKER_BIN, "--gateway", "http://127.0.0.1:" + std::to_string(api_port_)},
                  {{"VESPID_INTERNAL_TOKEN", ""}});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("VESPID_INTERNAL_TOKEN"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vespid::test
