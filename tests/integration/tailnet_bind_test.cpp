// A bridge bound to "tailnet", in network namespaces: a gateway namespace whose `tailscale0`
// (one end of a veth pair) carries a 100.64.0.0/10 address, a peer namespace on the other end,
// and a second veth pair standing for the LAN. The bridge must listen on the tailnet address and
// its loopback companion only, take connections from the peer there, refuse them on the LAN
// address, bind late when the address appears after start, and follow it when it moves or goes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "gateway_process.hpp"
#include "netns_lab.hpp"
#include "skip_or_fail.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kPort = 18790;  // free in a fresh namespace

std::string at(const std::string& address) {
  return address + ":" + std::to_string(kPort);
}

class TailnetBind : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = NetnsLab::unavailable_reason(); !why.empty()) VESPID_SKIP_UNLESS_CI(why);
    lab_ = std::make_unique<NetnsLab>(dir_.path());
    gw_ns_ = lab_->add_ns("gw");
    peer_ns_ = lab_->add_ns("peer");
    const std::string id = std::to_string(::getpid());
    peer_if_ = "tp" + id;
    lab_->veth(gw_ns_, "tailscale0", peer_ns_, peer_if_);
    lab_->veth(gw_ns_, "la" + id, peer_ns_, "lb" + id);
    lab_->addr_add(gw_ns_, "la" + id, "10.231.7.1/24");
    lab_->addr_add(peer_ns_, "lb" + id, "10.231.7.2/24");
    lab_->addr_add(peer_ns_, peer_if_, "100.100.7.2/16");
  }

  void start_gateway() {
    json cfg = {
        {"plugins",
         {{"instances", json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                                     {{"name", "local"}, {"plugin", "unix"}},
                                     {{"name", "tailnet"},
                                      {"plugin", "tailnet"},
                                      {"config", {{"magicdns", false}, {"settle_ms", 50}}}},
                                     {{"name", "bridge"},
                                      {"plugin", "bridge"},
                                      {"config", {{"bind", "tailnet"}, {"port", kPort}}}}})}}}};
    std::ofstream(dir_.file("cfg.json")) << cfg.dump(2);
    gw_.set_launcher(NetnsLab::in_ns(gw_ns_));
    gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")});
    ASSERT_TRUE(gw_.wait_ready());
  }

  std::vector<std::string> bridge_sockets() {
    std::vector<std::string> out;
    for (const auto& l : lab_->listening(gw_ns_)) {
      if (l.size() > 6 && l.substr(l.size() - 6) == ":" + std::to_string(kPort)) out.push_back(l);
    }
    return out;
  }

  bool listens_exactly(std::vector<std::string> want) {
    std::sort(want.begin(), want.end());
    return bridge_sockets() == want;
  }

  // A bridge.v1 hello from the peer namespace; the gateway answers NOT_PAIRED when it got it.
  CommandResult hello_from_peer(const std::string& address) {
    return lab_->run(peer_ns_,
                     {"sh", "-c",
                      // stdin stays open a while: the bridge takes a half-close for a close
                      "(printf '{\"type\":\"hello\",\"nodeId\":\"peer-node\"}\\n'; "
                      "sleep 2) | socat -T5 - TCP:" +
                          at(address) + ",connect-timeout=3"},
                     {}, 15s);
  }

  TempDir dir_{"vespid-tailnet"};
  std::unique_ptr<NetnsLab> lab_;
  GatewayProcess gw_;
  std::string gw_ns_, peer_ns_, peer_if_;
};

TEST_F(TailnetBind, ListensOnTheTailnetAddressOnly) {
  lab_->addr_add(gw_ns_, "tailscale0", "100.100.7.1/16");
  start_gateway();
  ASSERT_TRUE(eventually(
      [&] {
        return listens_exactly({at("100.100.7.1"), at("127.0.0.1")});
      },
      10s))
      << "listening: " << ::testing::PrintToString(bridge_sockets()) << "\n"
      << gw_.log_text();

  auto ok = hello_from_peer("100.100.7.1");
  EXPECT_NE(ok.out.find("NOT_PAIRED"), std::string::npos)
      << "peer over the tailnet got (exit " << ok.exit_code << "): " << ok.out << ok.err;

  // The LAN address of the same machine must refuse: nothing listens there, nor on 0.0.0.0.
  auto refused = hello_from_peer("10.231.7.1");
  EXPECT_EQ(refused.out.find("NOT_PAIRED"), std::string::npos) << refused.out;
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_EQ(gw_.log_text().find("0.0.0.0"), std::string::npos) << gw_.log_text();
  EXPECT_EQ(gw_.terminate(), 0);
}

TEST_F(TailnetBind, WaitsForTheAddressThenFollowsIt) {
  start_gateway();
  // No tailnet address yet: only the loopback companion, and the wait is logged.
  ASSERT_TRUE(eventually([&] { return listens_exactly({at("127.0.0.1")}); }, 10s))
      << ::testing::PrintToString(bridge_sockets());
  EXPECT_TRUE(eventually(
      [&] { return gw_.log_text().find("no address yet; waiting") != std::string::npos; }, 5s))
      << gw_.log_text();

  // It appears: the bridge binds it (netlink event, no restart).
  lab_->addr_add(gw_ns_, "tailscale0", "100.100.8.1/16");
  ASSERT_TRUE(eventually(
      [&] {
        return listens_exactly({at("100.100.8.1"), at("127.0.0.1")});
      },
      10s))
      << ::testing::PrintToString(bridge_sockets()) << "\n"
      << gw_.log_text();
  auto ok = hello_from_peer("100.100.8.1");
  EXPECT_NE(ok.out.find("NOT_PAIRED"), std::string::npos) << ok.out << ok.err;

  // It moves: the old listener closes, a new one opens. (Another subnet: deleting a primary
  // address would take its secondaries in the same subnet with it.)
  lab_->addr_add(gw_ns_, "tailscale0", "100.101.8.5/16");
  lab_->addr_del(gw_ns_, "tailscale0", "100.100.8.1/16");
  ASSERT_TRUE(eventually(
      [&] {
        return listens_exactly({at("100.101.8.5"), at("127.0.0.1")});
      },
      10s))
      << ::testing::PrintToString(bridge_sockets());

  // It goes: back to the companion alone, still no wildcard.
  lab_->addr_del(gw_ns_, "tailscale0", "100.101.8.5/16");
  ASSERT_TRUE(eventually([&] { return listens_exactly({at("127.0.0.1")}); }, 10s))
      << ::testing::PrintToString(bridge_sockets());
  EXPECT_EQ(gw_.terminate(), 0);
}

// The ws transport takes the same `bind` key: the REST API (here) or the node hosts' /ws can
// live on the tailnet only, follow its address, and never fall back to a wildcard.
TEST_F(TailnetBind, TheWsTransportFollowsTheTailnetToo) {
  constexpr int kApi = 3001;
  json cfg = {
      {"plugins",
       {{"instances",
         json::array(
             {{{"name", "storage"}, {"plugin", "sqlite"}},
              {{"name", "local"}, {"plugin", "unix"}},
              {{"name", "tailnet"},
               {"plugin", "tailnet"},
               {"config", {{"magicdns", false}, {"settle_ms", 50}}}},
              {{"name", "api"},
               {"plugin", "ws"},
               {"config",
                {{"bind", "tailnet"},
                 {"port", kApi},
                 {"routes", json::array({{{"path", "/healthz"}, {"dialect", "rest.v1"}},
                                         {{"prefix", "/v1/"}, {"dialect", "rest.v1"}}})}}}}})}}}};
  std::ofstream(dir_.file("cfg.json")) << cfg.dump(2);
  gw_.set_launcher(NetnsLab::in_ns(gw_ns_));
  gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")});
  ASSERT_TRUE(gw_.wait_ready()) << gw_.log_text();

  auto api_sockets = [&] {
    std::vector<std::string> out;
    for (const auto& l : lab_->listening(gw_ns_)) {
      if (l.size() > 5 && l.substr(l.size() - 5) == ":" + std::to_string(kApi)) out.push_back(l);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  auto on = [&](const std::string& address) { return address + ":" + std::to_string(kApi); };
  auto healthz_from_peer = [&](const std::string& address) {
    return lab_
        ->run(peer_ns_,
              {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "3",
               "http://" + on(address) + "/healthz"},
              {}, 15s)
        .out;
  };

  // No tailnet address yet: the loopback companion only, and the wait is logged.
  ASSERT_TRUE(eventually([&] { return api_sockets() == std::vector{on("127.0.0.1")}; }, 10s))
      << ::testing::PrintToString(api_sockets()) << gw_.log_text();
  EXPECT_TRUE(eventually(
      [&] { return gw_.log_text().find("no address yet; waiting") != std::string::npos; }, 5s))
      << gw_.log_text();

  lab_->addr_add(gw_ns_, "tailscale0", "100.100.9.1/16");
  ASSERT_TRUE(eventually(
      [&] {
        return api_sockets() == std::vector{on("100.100.9.1"), on("127.0.0.1")};
      },
      10s))
      << ::testing::PrintToString(api_sockets()) << gw_.log_text();
  EXPECT_EQ(healthz_from_peer("100.100.9.1"), "200");
  EXPECT_NE(healthz_from_peer("10.231.7.1"), "200") << "the LAN address must not answer";

  // It goes: back to the companion alone, never a wildcard.
  lab_->addr_del(gw_ns_, "tailscale0", "100.100.9.1/16");
  ASSERT_TRUE(eventually([&] { return api_sockets() == std::vector{on("127.0.0.1")}; }, 10s))
      << ::testing::PrintToString(api_sockets());
  EXPECT_NE(healthz_from_peer("100.100.9.1"), "200");
  EXPECT_EQ(gw_.log_text().find("0.0.0.0"), std::string::npos) << gw_.log_text();
  EXPECT_EQ(gw_.terminate(), 0) << gw_.log_text();
}

TEST_F(TailnetBind, WithoutANetbindInstanceTheBridgeRefusesToStart) {
  json cfg = {
      {"plugins",
       {{"instances", json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                                   {{"name", "local"}, {"plugin", "unix"}},
                                   {{"name", "bridge"},
                                    {"plugin", "bridge"},
                                    {"config", {{"bind", "tailnet"}, {"port", kPort}}}}})}}}};
  std::ofstream(dir_.file("cfg.json")) << cfg.dump(2);
  gw_.set_launcher(NetnsLab::in_ns(gw_ns_));
  gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")});
  EXPECT_EQ(gw_.wait_exit(20s), 6) << gw_.log_text();  // plugin failure
  EXPECT_NE(gw_.log_text().find("needs a netbind plugin instance"), std::string::npos)
      << gw_.log_text();
}

}  // namespace
}  // namespace vespid::test
