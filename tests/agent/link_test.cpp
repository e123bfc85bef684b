// The node host's gateway link through the real binary (`vespid-agent start`) against a scripted
// WebSocket server: hello and its capabilities, execute -> received/events/result, resend of an
// unacknowledged result after a reconnect, no double run, ack stopping resends, and a refused
// token ending the process without a retry loop.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "agent_test_util.hpp"
#include "fake_gateway.hpp"
#include "gateway_process.hpp"  // pick_free_port
#include "process.hpp"
#include "temp_dir.hpp"

using namespace vespid::test;
using nlohmann::json;
using ms = std::chrono::milliseconds;

namespace {

constexpr ms kWait{5000};

class AgentProcess {
 public:
  AgentProcess(const TempDir& tmp, const std::string& ws_url, std::vector<std::string> extra = {}) {
    config_ = tmp.file("agent.json");
    std::ofstream(config_) << json{
        {"agentId", "agent-1"},   {"agentToken", "org-1.secretpart"}, {"organizationId", "org-1"},
        {"gatewayWsUrl", ws_url}, {"apiUrl", "http://127.0.0.1:1"},   {"name", "test-host"},
        {"tags", {"t1"}}}.dump();
    log_ = tmp.file("agent.log");
    std::vector<std::string> argv = {agent_bin(),          "start", "--config",           config_,
                                     "--echo-delay-ms",    "0",     "--reconnect-min-ms", "20",
                                     "--reconnect-max-ms", "200",   "--max-in-flight",    "3",
                                     "--log-level",        "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    const int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_ = spawn(argv, {}, null_fd, null_fd, log_fd);
    ::close(null_fd);
    ::close(log_fd);
  }
  ~AgentProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // Waits for the process to end by itself; -1 if it is still running after `timeout`.
  int wait_exit(ms timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return decode_wait_status(status);
      }
      std::this_thread::sleep_for(ms(20));
    }
    return -1;
  }
  int terminate() {
    ::kill(pid_, SIGTERM);
    return wait_exit(kWait);
  }
  std::string log() const { return read_file(log_); }

 private:
  std::string config_, log_;
  pid_t pid_ = -1;
};

json echo_execute(const std::string& id, const std::string& message) {
  return {{"type", "execute"},
          {"requestId", id},
          {"organizationId", "org-1"},
          {"userId", "user-1"},
          {"kind", "agent.run"},
          {"payload",
           {{"sessionId", "sess-1"},
            {"engine", "vespid.echo.v1"},
            {"model", "none"},
            {"instructions", ""},
            {"message", message},
            {"history", json::array()}}}};
}

}  // namespace

TEST(AgentLink, HelloExecuteResendAfterReconnectAndAck) {
  FakeGateway gw;
  TempDir tmp("agent-link");
  AgentProcess agent(tmp, gw.ws_url());

  // --- first connection: hello, then one execute that the gateway never acknowledges.
  auto c1 = gw.accept(kWait);
  ASSERT_TRUE(c1) << agent.log();
  EXPECT_EQ(c1->authorization, "Bearer org-1.secretpart");
  const auto hello = c1->read(kWait);
  ASSERT_TRUE(hello) << agent.log();
  EXPECT_EQ((*hello)["type"], "hello");
  EXPECT_EQ((*hello)["name"], "test-host");
  EXPECT_TRUE((*hello)["agentVersion"].is_string());
  const json& caps = (*hello)["capabilities"];
  EXPECT_EQ(caps["kinds"], json::array({"agent.run", "agent.execute", "connector.action"}));
  EXPECT_EQ(caps["engines"], json::array({"vespid.echo.v1", "vespid.loop.v1"}));
  EXPECT_EQ(caps["connectors"], json::array({"echo"}));
  EXPECT_EQ(caps["maxInFlight"], 3);
  EXPECT_EQ(caps["tags"], json::array({"t1"}));

  c1->send(echo_execute("run-1:node:1", "one two three"));
  auto f = c1->read_skipping_pings(kWait);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, (json{{"type", "execute_received"}, {"requestId", "run-1:node:1"}}));
  std::vector<json> events;
  json result;
  while ((f = c1->read_skipping_pings(kWait))) {
    if ((*f)["type"] == "execute_event") {
      EXPECT_EQ((*f)["requestId"], "run-1:node:1");
      events.push_back((*f)["event"]);
    } else {
      result = *f;
      break;
    }
  }
  ASSERT_EQ(result["type"], "execute_result") << agent.log();
  EXPECT_EQ(result["status"], "succeeded");
  EXPECT_EQ(result["output"]["text"], "one two three");
  ASSERT_EQ(events.size(), 6u);  // start, 3 deltas, message, final
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i]["seq"], i + 1);
  EXPECT_EQ(events[1]["payload"]["text"], "one");
  EXPECT_EQ(events[5]["kind"], "agent.final");
  c1->drop();

  // --- second connection: the unacknowledged result comes right after hello.
  auto c2 = gw.accept(kWait);
  ASSERT_TRUE(c2) << agent.log();
  f = c2->read(kWait);
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)["type"], "hello");
  f = c2->read_skipping_pings(kWait);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, result) << "the kept result must be resent unchanged right after hello";

  // The same execute again must not run twice: the kept result comes back, no new events.
  c2->send(echo_execute("run-1:node:1", "one two three"));
  f = c2->read_skipping_pings(kWait);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, result);
  c2->send({{"type", "execute_ack"}, {"requestId", "run-1:node:1"}});
  // A second execute on this connection, acknowledged at once.
  c2->send(echo_execute("run-2:node:1", "x"));
  while ((f = c2->read_skipping_pings(kWait)) && (*f)["type"] != "execute_result") {
    EXPECT_NE((*f)["requestId"], "run-1:node:1") << f->dump();
  }
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)["requestId"], "run-2:node:1");
  c2->send({{"type", "execute_ack"}, {"requestId", "run-2:node:1"}});
  c2->send({{"type", "error"}, {"code", "TEST_ERROR"}, {"message", "logged by the agent"}});
  std::this_thread::sleep_for(ms(200));
  c2->drop();

  // --- third connection: both results were acknowledged, so nothing is resent.
  auto c3 = gw.accept(kWait);
  ASSERT_TRUE(c3) << agent.log();
  f = c3->read(kWait);
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)["type"], "hello");
  f = c3->read_skipping_pings(ms(600));
  EXPECT_FALSE(f) << "unexpected frame after ack: " << f->dump();

  EXPECT_EQ(agent.terminate(), 0) << agent.log();
  const std::string log = agent.log();
  EXPECT_NE(log.find("TEST_ERROR"), std::string::npos) << log;
  EXPECT_EQ(log.find("secretpart"), std::string::npos) << "the token must never be logged";
}

TEST(AgentLink, PingsAndReconnectsWhenTheGatewayGoesQuiet) {
  FakeGateway gw;
  TempDir tmp("agent-link");
  AgentProcess agent(tmp, gw.ws_url(), {"--ping-interval-ms", "100", "--idle-timeout-ms", "400"});
  auto c1 = gw.accept(kWait);
  ASSERT_TRUE(c1);
  ASSERT_TRUE(c1->read(kWait));  // hello
  const auto ping = c1->read(kWait);
  ASSERT_TRUE(ping);
  EXPECT_EQ((*ping)["type"], "ping");
  EXPECT_TRUE((*ping)["ts"].is_number());
  // No pong, nothing at all: the agent gives up on this connection and comes back.
  auto c2 = gw.accept(ms(3000));
  ASSERT_TRUE(c2) << agent.log();
  EXPECT_NE(agent.log().find("nothing received from the gateway"), std::string::npos);
  EXPECT_EQ(agent.terminate(), 0);
}

TEST(AgentLink, RevokedTokenExitsWithoutRetrying) {
  FakeGateway gw;
  TempDir tmp("agent-link");
  AgentProcess agent(tmp, gw.ws_url());
  ASSERT_TRUE(
      gw.refuse_next(401, {{"code", "AGENT_REVOKED"}, {"message", "agent was revoked"}}, kWait));
  EXPECT_EQ(agent.wait_exit(kWait), 4) << agent.log();
  EXPECT_FALSE(gw.accept(ms(300))) << "a revoked agent must not reconnect";
  EXPECT_EQ(gw.connections(), 1);
  const std::string log = agent.log();
  EXPECT_NE(log.find("AGENT_REVOKED"), std::string::npos) << log;
  EXPECT_NE(log.find("agent was revoked"), std::string::npos) << log;
}

TEST(AgentLink, ServerErrorsAreRetried) {
  FakeGateway gw;
  TempDir tmp("agent-link");
  AgentProcess agent(tmp, gw.ws_url());
  ASSERT_TRUE(gw.refuse_next(503, {{"code", "UNAVAILABLE"}, {"message", "starting"}}, kWait));
  auto c = gw.accept(kWait);
  ASSERT_TRUE(c) << agent.log();
  ASSERT_TRUE(c->read(kWait));
  EXPECT_EQ(agent.terminate(), 0);
}

TEST(AgentLink, SeveralGatewayUrlsAreTriedInTurn) {
  // The first URL has nobody listening (its instance is down): the agent moves on to the second
  // at once, without the backoff a single URL would wait. When that connection drops, it goes
  // round to the first again, then back to the second.
  FakeGateway live;
  const int dead_port = pick_free_port();
  const std::string dead = "ws://127.0.0.1:" + std::to_string(dead_port) + "/ws";
  TempDir tmp("agent-link");
  AgentProcess agent(tmp, dead, {"--gateway", dead + "," + live.ws_url()});
  auto c1 = live.accept(kWait);
  ASSERT_TRUE(c1) << agent.log();
  auto hello = c1->read(kWait);
  ASSERT_TRUE(hello);
  EXPECT_EQ((*hello)["type"], "hello");
  c1->drop();
  auto c2 = live.accept(kWait);
  ASSERT_TRUE(c2) << agent.log();
  const std::string log = agent.log();
  EXPECT_NE(log.find("cannot connect to " + dead), std::string::npos) << log;
  EXPECT_NE(log.find("trying the next gateway URL, " + live.ws_url()), std::string::npos) << log;
  EXPECT_NE(log.find("trying the next gateway URL, " + dead), std::string::npos)
      << "after the live one dropped, the round went on to the first URL; " << log;
  EXPECT_EQ(agent.terminate(), 0);
}
