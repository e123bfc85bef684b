// What one stranger may hold, and for how long (issue 13, item 6), through the real gateway:
// pairing requests are counted per connection and per peer address and withdrawn with their
// connection, their claims are bounded, an unauthenticated socket has a deadline, and
// unauthenticated sockets of one address cannot take the connection slots of everyone else.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "bridge_client.hpp"
#include "node_host_support.hpp"
#include "operator_client.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class StrangerLimits : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    bridge_port_ = pick_free_port();
    ws_config_extra_ = {
        {"routes",
         json::array(
             {{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}},
              {{"path", "/ws/operator"}, {"dialect", "operator.v1"}, {"websocket", true}}})}};
    extra_instances_.push_back(
        {{"name", "bridge"}, {"plugin", "bridge"}, {"config", {{"port", bridge_port_}}}});
    config_patch_ = {{"pairing", {{"ttl_ms", 1500}, {"max_pending_per_peer", 3}}},
                     {"bridge", {{"handshake_timeout_ms", 500}}},
                     {"limits", {{"max_anonymous_per_peer", 12}, {"anonymous_timeout_ms", 700}}}};
    start_gateway();
    bootstrap_identity();
    admin_ = cli::OperatorClient::connect(gw_.socket_path());
  }

  BridgeClient bridge() { return BridgeClient::connect("127.0.0.1", bridge_port_); }

  // Node ids the operator sees waiting, now.
  std::vector<std::string> pending_nodes() {
    std::vector<std::string> out;
    const json pending = admin_.call("nodes.pending");
    for (const auto& p : pending["pending"]) out.push_back(p["nodeId"]);
    return out;
  }

  // Polls until `pred` holds (up to 3 s).
  template <class Pred>
  bool eventually(Pred pred) {
    for (int i = 0; i < 150; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return pred();
  }

  int bridge_port_ = 0;
  cli::OperatorClient admin_;
};

TEST_F(StrangerLimits, OneConnectionHoldsOnePairingRequestAndClosingWithdrawsIt) {
  auto c = bridge();
  for (int i = 0; i < 10; ++i) c.pair_request("cycle-" + std::to_string(i), {});
  ASSERT_TRUE(eventually([&] {
    auto p = pending_nodes();
    return p.size() == 1 && p[0] == "cycle-9";
  })) << "asking for another node id must give up the first request";
  c.close();
  EXPECT_TRUE(eventually([&] { return pending_nodes().empty(); }))
      << "a request whose connection is gone lingers: an approval could reach no one";
}

TEST_F(StrangerLimits, PendingRequestsAreCountedPerPeerAddress) {
  std::vector<BridgeClient> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(bridge());
    held.back().pair_request("peer-" + std::to_string(i), {});
  }
  ASSERT_TRUE(eventually([&] { return pending_nodes().size() == 3; }));
  auto fourth = bridge();
  fourth.pair_request("peer-3", {});
  auto e = fourth.read_type("error", 3s);
  ASSERT_TRUE(e) << gw_.log_text();
  EXPECT_EQ((*e)["code"], "UNAVAILABLE") << e->dump();
  EXPECT_NE((*e)["message"].get<std::string>().find("pairing.max_pending_per_peer"),
            std::string::npos)
      << e->dump();
  EXPECT_EQ(pending_nodes().size(), 3u);

  // A slot comes back when its connection goes.
  held[0].close();
  ASSERT_TRUE(eventually([&] { return pending_nodes().size() == 2; }));
  auto fifth = bridge();
  fifth.pair_request("peer-4", {});
  EXPECT_TRUE(eventually([&] { return pending_nodes().size() == 3; })) << gw_.log_text();
}

TEST_F(StrangerLimits, PairingClaimsAreBounded) {
  auto c = bridge();
  c.pair_request("big", {{"displayName", std::string(20000, 'x')}});
  auto e = c.read_type("error", 3s);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "INVALID_REQUEST") << e->dump();
  EXPECT_NE((*e)["message"].get<std::string>().find("pairing.max_claims_bytes"), std::string::npos);
  EXPECT_TRUE(pending_nodes().empty());
}

TEST_F(StrangerLimits, AnExpiredPairingRequestReArmsTheHandshakeDeadline) {
  auto c = bridge();
  c.pair_request("slow", {});
  // The request expires (pairing.ttl_ms 1500) ...
  auto e = c.read_type("error", 4s);
  ASSERT_TRUE(e) << gw_.log_text();
  EXPECT_EQ((*e)["code"], "UNAUTHORIZED") << e->dump();
  // ... and the connection, unauthenticated again, gets the handshake deadline (500 ms).
  EXPECT_TRUE(c.wait_closed(3s)) << "an expired pairing left an anonymous socket open for good";
}

TEST_F(StrangerLimits, AnUnauthenticatedOperatorSocketIsClosedAtItsDeadline) {
  WsClient anon(ws());
  ASSERT_EQ(anon.connect("/ws/operator"), 101);
  auto e = anon.read_type("res", 3s);
  ASSERT_TRUE(e) << gw_.log_text();
  EXPECT_EQ((*e)["error"]["code"], "UNAUTHORIZED") << e->dump();
  for (int i = 0; i < 30 && !anon.closed(); ++i) anon.read(100ms);
  EXPECT_TRUE(anon.closed());

  // One that authenticated at the upgrade is not touched.
  WsClient op(ws());
  ASSERT_EQ(op.connect("/ws/operator", {{"Authorization", "Bearer " + admin_token_}}), 101);
  std::this_thread::sleep_for(1200ms);
  op.send({{"type", "req"}, {"id", 1}, {"method", "whoami"}});
  auto who = op.read_type("res", 3s);
  ASSERT_TRUE(who);
  EXPECT_EQ((*who)["ok"], true) << who->dump();
}

TEST_F(StrangerLimits, UnauthenticatedSocketsOfOneAddressCannotLockOutEveryoneElse) {
  // limits.max_anonymous_per_peer = 12: twelve silent sockets are let in, the next is refused.
  std::vector<std::unique_ptr<WsClient>> anon;
  for (int i = 0; i < 12; ++i) {
    anon.push_back(std::make_unique<WsClient>(ws()));
    ASSERT_EQ(anon.back()->connect("/ws/operator"), 101) << i;
  }
  WsClient over(ws());
  EXPECT_NE(over.connect("/ws/operator"), 101) << "a thirteenth unauthenticated socket got in";
  // Node hosts, operators with a token and REST are still served meanwhile.
  PairedAgent a = pair("still-served");
  auto host = connect_agent(a);
  ASSERT_TRUE(host);
  EXPECT_TRUE(wait_agent_status(a.id, "online"));
  WsClient op(ws());
  EXPECT_EQ(op.connect("/ws/operator", {{"Authorization", "Bearer " + admin_token_}}), 101);
  EXPECT_EQ(rest("GET", "/v1/orgs/" + org_id_ + "/agents", admin_token_).status, 200);
  // Closing them gives the address its slots back.
  anon.clear();
  std::this_thread::sleep_for(300ms);
  WsClient later(ws());
  EXPECT_EQ(later.connect("/ws/operator"), 101);
}

}  // namespace
}  // namespace vespid::test
