// What `discover` and `connect --discover` read from DNS-SD answers, without a network: TXT
// keys into ports, TLS flags and pins; one gateway per service instance however many
// interfaces answered; and which gateway gets chosen.
#include <gtest/gtest.h>

#include <sstream>

#include "gateway_choice.hpp"
#include "gateway_record.hpp"
#include "tls_pin.hpp"

using namespace vespid::agent;

namespace {

const std::string kPin(64, 'a');
const std::string kApiPin(64, 'b');

ResolvedService svc(const std::string& name, const std::string& address,
                    std::vector<std::string> txt) {
  return ResolvedService{name, "_vespid-gw._tcp", "local", "gw.local", address,
                         3002, std::move(txt)};
}

std::vector<std::string> full_txt() {
  return {"role=gateway",     "displayName=Office",
          "lanHost=gw.local", "bridgePort=18790",
          "gatewayPort=3002", "apiPort=3001",
          "gatewayTls=1",     "gatewayTlsSha256=" + kPin,
          "apiTls=1",         "apiTlsSha256=" + kApiPin,
          "protocol=1"};
}

TEST(GatewayRecord, ReadsPortsTlsAndPinsFromTxt) {
  auto gws = gateways_from({svc("Office", "192.168.1.5", full_txt())});
  ASSERT_EQ(gws.size(), 1u);
  const auto& g = gws[0];
  EXPECT_EQ(g.gateway_port, 3002);
  EXPECT_EQ(g.api_port, 3001);
  EXPECT_EQ(g.bridge_port, 18790);
  EXPECT_TRUE(g.gateway_tls);
  EXPECT_TRUE(g.api_tls);
  EXPECT_EQ(g.gateway_tls_sha256, kPin);
  EXPECT_EQ(g.api_tls_sha256, kApiPin);
  EXPECT_EQ(g.display_name, "Office");
  EXPECT_EQ(g.api_url(), "https://192.168.1.5:3001");
  EXPECT_EQ(g.gateway_ws_url(), "wss://192.168.1.5:3002/ws");
  EXPECT_TRUE(g.problems.empty());
  const auto j = g.to_json();
  EXPECT_EQ(j["apiPort"], 3001);
  EXPECT_EQ(j["gatewayTlsSha256"], kPin);
  EXPECT_EQ(j["address"], "192.168.1.5");
}

TEST(GatewayRecord, MinimalRecordsArePlainAndCarryNoPins) {
  auto gws =
      gateways_from({svc("GW", "10.0.0.2", {"role=gateway", "gatewayPort=3002", "apiPort=3001"})});
  ASSERT_EQ(gws.size(), 1u);
  EXPECT_EQ(gws[0].api_url(), "http://10.0.0.2:3001");
  EXPECT_EQ(gws[0].gateway_ws_url(), "ws://10.0.0.2:3002/ws");
  EXPECT_TRUE(gws[0].gateway_tls_sha256.empty());
}

TEST(GatewayRecord, OnlyRoleGatewayCountsAndKeysFollowRfc6763) {
  auto gws = gateways_from({
      svc("Printer", "10.0.0.3", {"role=printer", "apiPort=1"}),
      svc("NoRole", "10.0.0.4", {"apiPort=1"}),
      // Keys ignore case; only a key's first occurrence counts.
      svc("Mixed", "10.0.0.5", {"ROLE=gateway", "ApiPort=4001", "apiPort=9999"}),
  });
  ASSERT_EQ(gws.size(), 1u);
  EXPECT_EQ(gws[0].name, "Mixed");
  EXPECT_EQ(gws[0].api_port, 4001);
}

TEST(GatewayRecord, BadValuesAreIgnoredAndReported) {
  auto gws = gateways_from({svc("GW", "10.0.0.2",
                                {"role=gateway", "apiPort=70000", "gatewayPort=x", "gatewayTls=1",
                                 "gatewayTlsSha256=nothex"})});
  ASSERT_EQ(gws.size(), 1u);
  EXPECT_EQ(gws[0].api_port, 0);
  EXPECT_EQ(gws[0].gateway_port, 0);
  EXPECT_TRUE(gws[0].gateway_tls_sha256.empty());
  EXPECT_EQ(gws[0].problems.size(), 3u);
  EXPECT_EQ(gws[0].api_url(), "") << "no apiPort: nothing to pair with";
}

TEST(GatewayRecord, APinWithoutTlsIsNoPin) {
  auto gws = gateways_from(
      {svc("GW", "10.0.0.2", {"role=gateway", "gatewayPort=3002", "gatewayTlsSha256=" + kPin})});
  ASSERT_EQ(gws.size(), 1u);
  EXPECT_FALSE(gws[0].gateway_tls);
  EXPECT_TRUE(gws[0].gateway_tls_sha256.empty());
}

// A bridge record (_vespid-bridge._tcp) as `node start --discover` reads it: its port and pin.
TEST(GatewayRecord, BridgeRecordsCarryTheBridgePin) {
  const std::string bridge_pin(64, 'c');
  auto gws = gateways_from({svc("Office", "192.168.1.5",
                                {"role=gateway", "bridgePort=18790", "bridgeTls=1",
                                 "bridgeTlsSha256=" + bridge_pin, "protocol=1"})});
  ASSERT_EQ(gws.size(), 1u);
  EXPECT_EQ(gws[0].bridge_port, 18790);
  EXPECT_TRUE(gws[0].bridge_tls);
  EXPECT_EQ(gws[0].bridge_tls_sha256, bridge_pin);
  EXPECT_EQ(gws[0].to_json()["bridgeTlsSha256"], bridge_pin);
  // A fingerprint is a pin only for a bridge that says it speaks TLS.
  auto plain =
      gateways_from({svc("Plain", "192.168.1.6",
                         {"role=gateway", "bridgePort=18790", "bridgeTlsSha256=" + bridge_pin})});
  EXPECT_FALSE(plain[0].bridge_tls);
  EXPECT_TRUE(plain[0].bridge_tls_sha256.empty());
}

TEST(GatewayRecord, OneGatewayPerInstanceIpv4First) {
  auto gws =
      gateways_from({svc("GW", "fe80::1%eth0", full_txt()), svc("GW", "192.168.1.5", full_txt()),
                     svc("GW", "192.168.1.5", full_txt()), svc("Another", "10.1.1.1", full_txt())});
  ASSERT_EQ(gws.size(), 2u);
  EXPECT_EQ(gws[0].name, "Another");  // name order
  EXPECT_EQ(gws[1].addresses, (std::vector<std::string>{"192.168.1.5", "fe80::1%eth0"}));
  EXPECT_EQ(url_host("fe80::1%eth0"), "[fe80::1%eth0]");
}

std::vector<DiscoveredGateway> two() {
  return gateways_from({svc("Office", "10.0.0.1", full_txt()), svc("Lab", "10.0.0.2", full_txt())});
}

TEST(GatewayChoice, TheOnlyOneIsChosen) {
  auto one = gateways_from({svc("Office", "10.0.0.1", full_txt())});
  auto c = choose_gateway(one, "", false);
  ASSERT_TRUE(c.index.has_value());
  EXPECT_EQ(*c.index, 0u);
}

TEST(GatewayChoice, NothingFoundIsAnError) {
  auto c = choose_gateway({}, "", true);
  EXPECT_FALSE(c.index.has_value());
  EXPECT_FALSE(c.ask);
  EXPECT_NE(c.error.find("no Vespid gateway found"), std::string::npos);
}

TEST(GatewayChoice, SeveralWithoutATerminalFailsListingThem) {
  auto c = choose_gateway(two(), "", false);
  EXPECT_FALSE(c.index.has_value());
  EXPECT_FALSE(c.ask);
  EXPECT_NE(c.error.find("--gateway-name"), std::string::npos) << c.error;
  EXPECT_NE(c.error.find("1) Lab"), std::string::npos) << c.error;
  EXPECT_NE(c.error.find("2) Office"), std::string::npos) << c.error;
}

TEST(GatewayChoice, SeveralOnATerminalAsks) {
  auto c = choose_gateway(two(), "", true);
  EXPECT_TRUE(c.ask);
  EXPECT_FALSE(c.index.has_value());
}

TEST(GatewayChoice, ByNameExactThenIgnoringCase) {
  auto gws = two();  // both say displayName=Office: the instance name wins
  ASSERT_EQ(gws[0].display_name, "Office");
  auto c = choose_gateway(gws, "Office", false);
  ASSERT_TRUE(c.index.has_value());
  EXPECT_EQ(gws[*c.index].name, "Office");
  c = choose_gateway(gws, "lab", false);
  ASSERT_TRUE(c.index.has_value());
  EXPECT_EQ(gws[*c.index].name, "Lab");
  c = choose_gateway(gws, "office", false);
  EXPECT_FALSE(c.index.has_value()) << "two match ignoring case (Office, and Lab's displayName)";
  EXPECT_NE(c.error.find("several gateways named"), std::string::npos) << c.error;
  c = choose_gateway(gws, "Garage", true);
  EXPECT_FALSE(c.index.has_value());
  EXPECT_FALSE(c.ask) << "a name that matches nothing is not a question";
  EXPECT_NE(c.error.find("no gateway named \"Garage\""), std::string::npos) << c.error;
}

TEST(GatewayChoice, ParsePickAcceptsOnlyNumbersInRange) {
  EXPECT_EQ(parse_pick(" 2 \n", 3), std::optional<std::size_t>(1));
  EXPECT_EQ(parse_pick("1", 1), std::optional<std::size_t>(0));
  EXPECT_FALSE(parse_pick("0", 3));
  EXPECT_FALSE(parse_pick("4", 3));
  EXPECT_FALSE(parse_pick("two", 3));
  EXPECT_FALSE(parse_pick("", 3));
  EXPECT_FALSE(parse_pick("-1", 3));
}

TEST(GatewayChoice, AskRepeatsUntilAValidNumber) {
  auto gws = two();
  std::istringstream in("9\nfoo\n2\n");
  std::ostringstream out;
  auto pick = ask_gateway(gws, in, out);
  ASSERT_TRUE(pick.has_value());
  EXPECT_EQ(gws[*pick].name, "Office");
  EXPECT_NE(out.str().find("1) Lab"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("Please answer with a number from 1 to 2"), std::string::npos);
  std::istringstream eof("");
  EXPECT_FALSE(ask_gateway(gws, eof, out).has_value());
}

TEST(TlsPinText, NormalizesHexAndRefusesAnythingElse) {
  std::string colons, plain;
  for (int i = 0; i < 32; ++i) {
    colons += std::string(i ? ":" : "") + "AB";
    plain += "ab";
  }
  EXPECT_EQ(normalize_sha256(colons), std::optional<std::string>(plain));
  EXPECT_FALSE(normalize_sha256("abcd"));
  EXPECT_FALSE(normalize_sha256(std::string(64, 'g')));
  EXPECT_THROW(TlsPin("xyz"), std::invalid_argument);
  EXPECT_TRUE(TlsPin("").empty());
  EXPECT_EQ(TlsPin(std::string(64, 'A')).sha256(), std::string(64, 'a'));
  // No handshake has happened: no mismatch to report.
  EXPECT_EQ(TlsPin(kPin).mismatch("gw"), "");
}

}  // namespace
