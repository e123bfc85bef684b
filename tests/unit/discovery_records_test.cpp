// What gets published, and under which TXT: the composer the Bonjour publisher and
// `vespid-gateway dns-sd zone` share. Also the bind specs the core answers without a plugin.
#include <gtest/gtest.h>

#include <algorithm>

#include "discovery/records.hpp"
#include "netbind/bind_service.hpp"

namespace vespid::core {
namespace {

using discovery::ListenerFacts;
using discovery::Record;
using discovery::Settings;

Settings settings() {
  Settings s;
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
