// What gets published, and under which TXT: the composer the Bonjour publisher and
// `vespid-gateway dns-sd zone` share. Also the bind specs the core answers without a plugin.
#include <gtest/gtest.h>

#include <algorithm>

#include "host/discovery/records.hpp"
#include "host/discovery/ws_services.hpp"
#include "host/netbind/bind_service.hpp"

namespace vespid::core {
namespace {

using discovery::ListenerFacts;
using discovery::Record;
using discovery::Settings;

Settings settings() {
  Settings s;
  s.bridge_protocol = 1;
  s.display_name = "GW";
  s.lan_host = "gw.local";
  return s;
}

bool has(const Record& r, const std::string& kv) {
  return std::find(r.txt.begin(), r.txt.end(), kv) != r.txt.end();
}

TEST(DiscoveryRecords, OnlyListenersBeyondLoopbackArePublished) {
  std::vector<ListenerFacts> ls = {{"local", "bridge", 18790, false, "", {"127.0.0.1"}},
                                   {"v6local", "bridge", 18791, false, "", {"::1"}},
                                   {"nowhere", "bridge", 18792, false, "", {}}};
  EXPECT_TRUE(discovery::compose(settings(), ls).empty());
  ls.push_back({"lan", "bridge", 18793, false, "", {"0.0.0.0"}});
  auto rs = discovery::compose(settings(), ls);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].port, 18793);
  EXPECT_EQ(rs[0].type, "_vespid-bridge._tcp");
  EXPECT_EQ(rs[0].instance_name, "GW");
}

TEST(DiscoveryRecords, TxtCarriesPortsTlsAndNames) {
  Settings s = settings();
  s.tailnet_dns = "gw.tail.ts.net";
  s.bridge_types = {"_vespid-bridge._tcp", "_clawdbot-bridge._tcp"};
  std::vector<ListenerFacts> ls = {{"bridge", "bridge", 18790, true, "abcd", {"100.64.0.1"}},
                                   {"ws", "gateway", 3001, false, "", {"0.0.0.0"}}};
  auto rs = discovery::compose(s, ls);
  ASSERT_EQ(rs.size(), 3u);  // two bridge types, one gateway type
  const Record& b = rs[0];
  EXPECT_EQ(b.txt.front(), "role=gateway");
  for (const char* kv :
       {"displayName=GW", "lanHost=gw.local", "bridgePort=18790", "gatewayPort=3001", "bridgeTls=1",
        "bridgeTlsSha256=abcd", "tailnetDns=gw.tail.ts.net", "protocol=1"}) {
    EXPECT_TRUE(has(b, kv)) << kv;
  }
  EXPECT_FALSE(has(b, "gatewayTls=1"));
  EXPECT_EQ(rs[1].type, "_clawdbot-bridge._tcp");
  EXPECT_EQ(rs[2].type, "_vespid-gw._tcp");
  EXPECT_EQ(rs[2].port, 3001);
  EXPECT_TRUE(has(rs[2], "bridgeTls=1"));  // a node finding the gateway learns the bridge's pin
}

TEST(DiscoveryRecords, MinimalModeKeepsRoleAndPortsOnly) {
  Settings s = settings();
  s.minimal = true;
  s.tailnet_dns = "gw.tail.ts.net";
  auto rs = discovery::compose(s, {{"bridge", "bridge", 18790, true, "abcd", {"0.0.0.0"}}});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].txt, (std::vector<std::string>{"role=gateway", "bridgePort=18790"}));
}

TEST(DiscoveryRecords, SecondListenerOfAServiceGetsItsOwnName) {
  auto rs = discovery::compose(settings(), {{"plain", "bridge", 18790, false, "", {"0.0.0.0"}},
                                            {"tls", "bridge", 18791, true, "ff", {"0.0.0.0"}}});
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].instance_name, "GW");
  EXPECT_EQ(rs[1].instance_name, "GW (tls)");
  EXPECT_TRUE(has(rs[1], "bridgePort=18791"));
  EXPECT_TRUE(has(rs[1], "bridgeTls=1"));
  EXPECT_FALSE(has(rs[0], "bridgeTls=1"));
}

// Node hosts pair over the REST API, so the records say where it is (apiPort, apiTls and its
// pin), whether a listener of its own serves /v1/ or the /ws listener does.
TEST(DiscoveryRecords, TxtSaysWhereTheRestApiIs) {
  ListenerFacts api{"api", "api", 3001, true, "aa11", {"0.0.0.0"}};
  ListenerFacts ws{"ws", "gateway", 3002, true, "bb22", {"0.0.0.0"}};
  auto rs = discovery::compose(settings(), {api, ws});
  ASSERT_EQ(rs.size(), 1u) << "the api listener has no record of its own";
  EXPECT_EQ(rs[0].type, "_vespid-gw._tcp");
  EXPECT_EQ(rs[0].port, 3002);
  for (const char* kv : {"gatewayPort=3002", "apiPort=3001", "gatewayTls=1",
                         "gatewayTlsSha256=bb22", "apiTls=1", "apiTlsSha256=aa11"}) {
    EXPECT_TRUE(has(rs[0], kv)) << kv;
  }

  // One listener serving both: its own port twice. A loopback-only api is not announced.
  ListenerFacts both{"all", "gateway", 3005, false, "", {"0.0.0.0"}, true};
  ListenerFacts local_api{"api", "api", 3001, false, "", {"127.0.0.1"}};
  rs = discovery::compose(settings(), {local_api, both});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_TRUE(has(rs[0], "gatewayPort=3005"));
  EXPECT_TRUE(has(rs[0], "apiPort=3005"));
  EXPECT_FALSE(has(rs[0], "apiTls=1"));

  rs = discovery::compose(settings(), {local_api, ws});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(std::count_if(rs[0].txt.begin(), rs[0].txt.end(),
                          [](const std::string& kv) { return kv.rfind("apiPort=", 0) == 0; }),
            0);
}

TEST(DiscoveryRecords, MinimalModeKeepsTheApiPortButNoPins) {
  Settings s = settings();
  s.minimal = true;
  auto rs = discovery::compose(s, {{"api", "api", 3001, true, "aa11", {"0.0.0.0"}},
                                   {"ws", "gateway", 3002, true, "bb22", {"0.0.0.0"}}});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].txt,
            (std::vector<std::string>{"role=gateway", "gatewayPort=3002", "apiPort=3001"}));
}

// `dns-sd zone` reads the same facts from a ws instance's config that the plugin announces.
TEST(DiscoveryWsServices, RoutesDecideGatewayApiOrNothing) {
  using discovery::ws_services_of;
  using nlohmann::json;
  auto all = ws_services_of(json::object());
  EXPECT_EQ(all.service, "gateway");
  EXPECT_TRUE(all.api);
  auto api =
      ws_services_of({{"routes", json::array({{{"prefix", "/v1/"}, {"dialect", "rest.v1"}}})}});
  EXPECT_EQ(api.service, "api");
  EXPECT_TRUE(api.api);
  auto node = ws_services_of(
      {{"routes",
        json::array({{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}}})}});
  EXPECT_EQ(node.service, "gateway");
  EXPECT_FALSE(node.api);
  auto clients = ws_services_of({{"routes", json::array({{{"path", "/ws/client"},
                                                          {"dialect", "vespid.client.v1"},
                                                          {"websocket", true}}})}});
  EXPECT_EQ(clients.service, "");
}

TEST(BindSpecs, TheCoreAnswersLoopbackLanAndLiterals) {
  EXPECT_EQ(BindService::static_addresses("loopback"), std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(BindService::static_addresses("lan"), std::vector<std::string>{"0.0.0.0"});
  EXPECT_EQ(BindService::static_addresses("fd7a:115c:a1e0:0::5"),
            std::vector<std::string>{"fd7a:115c:a1e0::5"});
  EXPECT_FALSE(BindService::static_addresses("tailnet").has_value());
  EXPECT_FALSE(BindService::static_addresses("auto").has_value());
  EXPECT_FALSE(BindService::static_addresses("300.1.1.1").has_value());
}

}  // namespace
}  // namespace vespid::core
