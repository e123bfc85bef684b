// The gateway-wide limits docs/security.md lists, each hit through the real gateway with a small
// value: connections (limits.max_connections), anonymous pairing requests (pairing.max_pending),
// pairing tokens (agents.max_pairing_tokens_per_org) and dispatches in flight
// (dispatch.max_outstanding). Each refusal names its config key, and what was admitted before
// the limit keeps working.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "bridge_client.hpp"
#include "node_host_support.hpp"
#include "operator_client.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Limits : public NodeHostGateway {
 protected:
  // Starts the gateway with `limits` merged into its configuration (top-level sections).
  void start_with(const json& limits) {
    json cfg = config();
    cfg.update(limits, true);
    std::ofstream(dir_.file("cfg.json")) << cfg.dump(2);
    gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")},
              {{"VESPID_INTERNAL_TOKEN", kServiceToken}});
    ASSERT_TRUE(gw_.wait_ready());
    bootstrap_identity();
  }
  bool log_mentions(const std::string& text) const {
    return gw_.log_text().find(text) != std::string::npos;
  }
};

TEST_F(Limits, ConnectionsPastMaxConnectionsAreRefusedAtOpen) {
  start_with({{"limits", {{"max_connections", 3}}}});
  std::vector<std::unique_ptr<cli::OperatorClient>> admins;
  admins.push_back(
      std::make_unique<cli::OperatorClient>(cli::OperatorClient::connect(gw_.socket_path())));
  // Earlier helpers' connections are closed; wait until this one is the only one left.
  bool alone = false;
  for (int i = 0; i < 100 && !alone; ++i) {
    alone = admins[0]->call("status")["connections"] == 1;
    if (!alone) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(alone);
  for (int i = 1; i < 3; ++i) {
    admins.push_back(
        std::make_unique<cli::OperatorClient>(cli::OperatorClient::connect(gw_.socket_path())));
    EXPECT_EQ(admins.back()->call("health")["ok"], true) << "connection " << i + 1 << " of 3";
  }
  EXPECT_ANY_THROW({
    auto extra = cli::OperatorClient::connect(gw_.socket_path());
    extra.call("health", json::object(), 5s);
  }) << "a fourth connection is refused";
  EXPECT_TRUE(log_mentions("limits.max_connections = 3")) << gw_.log_text();
  EXPECT_EQ(admins[0]->call("status")["connections"], 3) << "the admitted ones still work";
}

TEST_F(Limits, AnonymousPairingRequestsPastMaxPendingAreRefused) {
  const int bridge_port = pick_free_port();
  extra_instances_.push_back(
      {{"name", "bridge"}, {"plugin", "bridge"}, {"config", {{"port", bridge_port}}}});
  start_with({{"pairing", {{"max_pending", 2}}}});
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  auto pending = [&] { return admin.call("nodes.pending")["pending"].size(); };
  // All three at once: admission is counted before anything is stored, so requests that
  // arrive together cannot all pass it.
  std::vector<BridgeClient> nodes;
  for (const char* id : {"phone-1", "phone-2", "phone-3"}) {
    nodes.push_back(BridgeClient::connect("127.0.0.1", bridge_port));
    nodes.back().pair_request(id);
  }
  int refusals = 0;
  for (auto& n : nodes) {
    auto e = n.read_type("error", 1s);
    if (!e) continue;
    ++refusals;
    EXPECT_EQ((*e)["code"], "UNAVAILABLE");
    EXPECT_NE((*e)["message"].get<std::string>().find("pairing.max_pending = 2"), std::string::npos)
        << e->dump();
  }
  EXPECT_EQ(refusals, 1);
  for (int i = 0; i < 100 && pending() != 2u; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(pending(), 2u) << "the two admitted still wait";
}

TEST_F(Limits, PairingTokensPastThePerOrgLimitAreRefused) {
  start_with({{"agents", {{"max_pairing_tokens_per_org", 2}}}});
  pairing_token(admin_token_);
  pairing_token(admin_token_);
  HttpReply third = rest("POST", "/v1/orgs/" + org_id_ + "/agents/pairing-tokens", admin_token_);
  EXPECT_EQ(third.status, 503) << third.raw_body;
  EXPECT_EQ(third.body["code"], "UNAVAILABLE");
  EXPECT_NE(third.raw_body.find("agents.max_pairing_tokens_per_org"), std::string::npos)
      << third.raw_body;
}

TEST_F(Limits, PairingTokensMintedAtOnceCountEachOtherAndAUsedOneFreesItsPlace) {
  start_with({{"agents", {{"max_pairing_tokens_per_org", 3}}}});
  // Ten mints pipelined on one admin connection: they are in flight in the gateway together,
  // so the count must include the ones not yet stored.
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  std::string reqs;
  for (int i = 0; i < 10; ++i) {
    reqs += json{{"type", "req"},
                 {"id", i},
                 {"method", "agents.pairingToken"},
                 {"params", {{"org", org_id_}}}}
                .dump() +
            "\n";
  }
  admin.send_raw(reqs);
  std::vector<std::string> tokens;
  int refused = 0;
  for (int got = 0; got < 10;) {
    auto line = admin.read_line(10s);
    ASSERT_TRUE(line) << "every mint is answered";
    json r = json::parse(*line);
    if (r.value("type", "") != "res") continue;
    ++got;
    if (r.value("ok", false)) {
      tokens.push_back(r["payload"]["token"]);
    } else {
      ++refused;
      EXPECT_EQ(r["error"]["code"], "UNAVAILABLE") << r.dump();
    }
  }
  EXPECT_EQ(tokens.size(), 3u);
  EXPECT_EQ(refused, 7);
  // Using one makes room for exactly one more.
  HttpReply paired = rest("POST", "/v1/agents/pair", "",
                          {{"pairingToken", tokens.at(0)}, {"name", "h"}, {"agentVersion", "1"}});
  EXPECT_EQ(paired.status, 201) << paired.raw_body;
  EXPECT_FALSE(pairing_token(admin_token_).empty());
  HttpReply past = rest("POST", "/v1/orgs/" + org_id_ + "/agents/pairing-tokens", admin_token_);
  EXPECT_EQ(past.status, 503) << past.raw_body;
}

TEST_F(Limits, DispatchesPastMaxOutstandingAreRefused) {
  start_with({{"dispatch", {{"max_outstanding", 1}}}});
  PairedAgent a = pair("busy");
  auto host = connect_agent(a, {{"maxInFlight", 5}});  // the host never answers
  ASSERT_EQ(internal("POST", "/internal/v1/dispatch-async", dispatch_body("r", 1)).status, 201);
  HttpReply second = internal("POST", "/internal/v1/dispatch-async", dispatch_body("r", 2));
  EXPECT_EQ(second.status, 503) << second.raw_body;
  EXPECT_EQ(second.body["code"], "UNAVAILABLE");
  EXPECT_NE(second.raw_body.find("dispatch.max_outstanding = 1"), std::string::npos)
      << second.raw_body;
}

}  // namespace
}  // namespace vespid::test
