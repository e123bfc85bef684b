// `vespid-gateway dns-sd zone`: the records a unicast DNS zone needs for wide-area discovery,
// composed by the same code that feeds Bonjour.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "build_paths.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;

TEST(DnsSdZone, PrintsPtrSrvTxtAndAddressRecords) {
  TempDir dir("vespid-zone");
  json cfg = {
      {"plugins",
       {{"instances", json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                                   {{"name", "bridge"},
                                    {"plugin", "bridge"},
                                    {"config", {{"bind", "tailnet"}, {"port", 18790}}}},
                                   {{"name", "quiet"},
                                    {"plugin", "bridge"},
                                    {"config", {{"bind", "loopback"}, {"port", 18795}}}}})}}},
      {"discovery", {{"display_name", "Lab GW"}, {"tailnet_dns", "lab.example.ts.net"}}}};
  std::ofstream(dir.file("cfg.json")) << cfg.dump(2);
  auto r =
      run_command({gateway_bin(), "dns-sd", "zone", "--config", dir.file("cfg.json"), "--state-dir",
                   dir.file("state"), "--domain", "vespid.example.net", "--host", "gw", "--address",
                   "100.64.1.2", "--address", "fd7a:115c:a1e0::2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string& z = r.out;
  EXPECT_NE(z.find("_services._dns-sd._udp.vespid.example.net.\tPTR\t_vespid-bridge._tcp."
                   "vespid.example.net."),
            std::string::npos)
      << z;
  EXPECT_NE(z.find("_vespid-bridge._tcp.vespid.example.net.\tPTR\t"
                   "Lab\\032GW._vespid-bridge._tcp.vespid.example.net."),
            std::string::npos)
      << z;
  EXPECT_NE(z.find("Lab\\032GW._vespid-bridge._tcp.vespid.example.net.\tSRV\t0 0 18790 "
                   "gw.vespid.example.net."),
            std::string::npos)
      << z;
  EXPECT_NE(z.find("\"role=gateway\""), std::string::npos) << z;
  EXPECT_NE(z.find("\"bridgePort=18790\""), std::string::npos) << z;
  EXPECT_NE(z.find("\"tailnetDns=lab.example.ts.net\""), std::string::npos) << z;
  EXPECT_NE(z.find("gw.vespid.example.net.\tA\t100.64.1.2"), std::string::npos) << z;
  EXPECT_NE(z.find("gw.vespid.example.net.\tAAAA\tfd7a:115c:a1e0::2"), std::string::npos) << z;
  EXPECT_EQ(z.find("18795"), std::string::npos) << "a loopback listener is not published\n" << z;
}

// Node hosts pair over the REST API: a ws instance serving only /v1/ gets no record of its own
// but its port rides in the gateway record's TXT; one serving neither /ws nor /v1/ is left out.
TEST(DnsSdZone, TheGatewayRecordSaysWhereTheApiIs) {
  TempDir dir("vespid-zone");
  auto ws = [](int port, json routes) {
    return json{{"host", "lan"}, {"port", port}, {"routes", std::move(routes)}};
  };
  json cfg = {
      {"plugins",
       {{"instances",
         json::array(
             {{{"name", "storage"}, {"plugin", "sqlite"}},
              {{"name", "api"},
               {"plugin", "ws"},
               {"config", ws(3001, json::array({{{"prefix", "/v1/"}, {"dialect", "rest.v1"}}}))}},
              {{"name", "ws"},
               {"plugin", "ws"},
               {"config", ws(3002, json::array({{{"path", "/ws"},
                                                 {"dialect", "vespid.node.v1"},
                                                 {"websocket", true}}}))}},
              {{"name", "clients"},
               {"plugin", "ws"},
               {"config", ws(3003, json::array({{{"path", "/ws/client"},
                                                 {"dialect", "vespid.client.v1"},
                                                 {"websocket", true}}}))}}})}}},
      {"discovery", {{"display_name", "Lab GW"}}}};
  std::ofstream(dir.file("cfg.json")) << cfg.dump(2);
  auto r = run_command({gateway_bin(), "dns-sd", "zone", "--config", dir.file("cfg.json"),
                        "--state-dir", dir.file("state"), "--domain", "vespid.example.net",
                        "--host", "gw", "--address", "100.64.1.2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string& z = r.out;
  EXPECT_NE(z.find("Lab\\032GW._vespid-gw._tcp.vespid.example.net.\tSRV\t0 0 3002 "),
            std::string::npos)
      << z;
  EXPECT_NE(z.find("\"gatewayPort=3002\" \"apiPort=3001\""), std::string::npos) << z;
  EXPECT_EQ(z.find("SRV\t0 0 3001"), std::string::npos) << "the API has no record of its own\n"
                                                        << z;
  EXPECT_EQ(z.find("3003"), std::string::npos) << "a control-client listener is not for nodes\n"
                                               << z;
}

TEST(DnsSdZone, RefusesWhenNothingIsBoundBeyondLoopback) {
  TempDir dir("vespid-zone");
  auto r = run_command({gateway_bin(), "dns-sd", "zone", "--state-dir", dir.file("state"),
                        "--domain", "vespid.example.net"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nothing to publish"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vespid::test
