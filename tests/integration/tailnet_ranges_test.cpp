// The tailnet plugin beyond Tailscale's defaults, in network namespaces as tailnet_bind_test:
// custom `ranges` (a Headscale deployment's prefixes) replace the default list, `interfaces`
// leaves out a CGNAT uplink in the same range, and the MagicDNS name comes from a stand-in for
// the `tailscale` CLI (the real one needs a tailscaled and a coordination server, which are
// beyond this machine) and is published as `tailnetDns`; a CLI that hangs is killed after 5 s
// without holding up binding, and a missing one is fine.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "build_paths.hpp"
#include "gateway_process.hpp"
#include "netns_lab.hpp"
#include "skip_or_fail.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kPort = 18790;

std::string at(const std::string& address) {
  const bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(kPort);
}

// What `tailscale status --json` prints, trimmed to the fields around the one the plugin reads.
const char* const kStatusJson = R"({
  "Version": "1.76.1-fake",
  "BackendState": "Running",
  "TailscaleIPs": ["100.100.5.1"],
  "Self": {"ID": "n1", "HostName": "gw", "DNSName": "gw.example-tailnet.ts.net.",
           "OS": "linux", "TailscaleIPs": ["100.100.5.1"], "Online": true},
  "MagicDNSSuffix": "example-tailnet.ts.net",
  "CurrentTailnet": {"Name": "example.com", "MagicDNSSuffix": "example-tailnet.ts.net",
                     "MagicDNSEnabled": true},
  "Peer": {}
})";

class TailnetRanges : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = NetnsLab::unavailable_reason(); !why.empty()) VESPID_SKIP_UNLESS_CI(why);
    lab_ = std::make_unique<NetnsLab>(dir_.path());
    gw_ns_ = lab_->add_ns("rgw");
    peer_ns_ = lab_->add_ns("rpeer");
    id_ = std::to_string(::getpid());
    // tailscale0 and its peer end; a second pair stands for an ISP uplink that also hands out
    // CGNAT (100.64.0.0/10) addresses.
    lab_->veth(gw_ns_, "tailscale0", peer_ns_, "tp" + id_);
    lab_->veth(gw_ns_, "cg" + id_, peer_ns_, "cp" + id_);
    lab_->addr_add(peer_ns_, "cp" + id_, "100.70.1.2/24");
  }

  // plugins.instances: storage, admin socket, the tailnet instance with `tailnet_config`, a
  // bridge bound to "tailnet", and `extra` instances.
  void start_gateway(const json& tailnet_config, const EnvOverrides& env = {},
                     const json& extra = json::array()) {
    json instances =
        json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                     {{"name", "local"}, {"plugin", "unix"}},
                     {{"name", "tailnet"}, {"plugin", "tailnet"}, {"config", tailnet_config}},
                     {{"name", "bridge"},
                      {"plugin", "bridge"},
                      {"config", {{"bind", "tailnet"}, {"port", kPort}}}}});
    for (const auto& e : extra) instances.push_back(e);
    write_config({{"plugins", {{"instances", instances}}}});
    gw_.set_launcher(NetnsLab::in_ns(gw_ns_));
    gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")}, env);
    ASSERT_TRUE(gw_.wait_ready()) << gw_.log_text();
  }

  void write_config(const json& cfg) { std::ofstream(dir_.file("cfg.json")) << cfg.dump(2); }

  std::vector<std::string> bridge_sockets() {
    std::vector<std::string> out;
    const std::string suffix = ":" + std::to_string(kPort);
    for (const auto& l : lab_->listening(gw_ns_)) {
      if (l.size() > suffix.size() && l.substr(l.size() - suffix.size()) == suffix) {
        out.push_back(l);
      }
    }
    return out;
  }

  bool listens_exactly(std::vector<std::string> want) {
    std::sort(want.begin(), want.end());
    return bridge_sockets() == want;
  }

  // A bridge.v1 hello from the peer namespace; the gateway answers NOT_PAIRED when it got it.
  bool hello_answered(const std::string& address) {
    const bool v6 = address.find(':') != std::string::npos;
    auto r =
        lab_->run(peer_ns_,
                  {"sh", "-c",
                   "(printf '{\"type\":\"hello\",\"nodeId\":\"peer-node\"}\\n'; sleep 2) | "
                   "socat -T5 - " +
                       std::string(v6 ? "TCP6:" : "TCP4:") + at(address) + ",connect-timeout=3"},
                  {}, 15s);
    return r.out.find("NOT_PAIRED") != std::string::npos;
  }

  // An executable script standing in for the tailscale CLI.
  std::string fake_tailscale(const std::string& name, const std::string& body) {
    const std::string path = dir_.file(name);
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ::chmod(path.c_str(), 0755);
    return path;
  }

  TempDir dir_{"vespid-tailranges"};
  std::unique_ptr<NetnsLab> lab_;
  GatewayProcess gw_;
  std::string gw_ns_, peer_ns_, id_;
};

// Headscale's `prefixes` are often not Tailscale's: with `ranges` set, an address in 100.80/12
// counts, one in the default 100.64/10 outside that list does not (the list replaces the
// default), and the same for IPv6.
TEST_F(TailnetRanges, CustomRangesReplaceTheDefaultOnes) {
  lab_->addr_add(gw_ns_, "tailscale0", "100.80.3.1/16");
  lab_->addr_add(gw_ns_, "tailscale0", "100.100.3.1/16");  // default range, not in the list
  lab_->addr_add(gw_ns_, "tailscale0", "fd7a:1234:5678::1/64", {"nodad"});
  lab_->addr_add(gw_ns_, "tailscale0", "fd7a:115c:a1e0::1/64", {"nodad"});  // Tailscale's own
  lab_->addr_add(peer_ns_, "tp" + id_, "100.80.3.2/16");
  lab_->addr_add(peer_ns_, "tp" + id_, "100.100.3.2/16");
  lab_->addr_add(peer_ns_, "tp" + id_, "fd7a:1234:5678::2/64", {"nodad"});
  lab_->addr_add(peer_ns_, "tp" + id_, "fd7a:115c:a1e0::2/64", {"nodad"});
  start_gateway({{"ranges", json::array({"100.80.0.0/12", "fd7a:1234:5678::/48"})},
                 {"magicdns", false},
                 {"settle_ms", 50}});
  ASSERT_TRUE(eventually(
      [&] {
        return listens_exactly({at("100.80.3.1"), at("fd7a:1234:5678::1"), at("127.0.0.1")});
      },
      10s))
      << ::testing::PrintToString(bridge_sockets()) << "\n"
      << gw_.log_text();
  EXPECT_NE(gw_.log_text().find("tailnet ranges 100.80.0.0/12, fd7a:1234:5678::/48; tailnet "
                                "addresses: 100.80.3.1 on tailscale0, fd7a:1234:5678::1 on "
                                "tailscale0"),
            std::string::npos)
      << gw_.log_text();

  EXPECT_TRUE(hello_answered("100.80.3.1"));
  EXPECT_TRUE(hello_answered("fd7a:1234:5678::1"));
  EXPECT_FALSE(hello_answered("100.100.3.1")) << "the default range no longer counts";
  EXPECT_FALSE(hello_answered("fd7a:115c:a1e0::1")) << "the default range no longer counts";

  // An address that appears later in a custom range is bound as the default ones are.
  lab_->addr_add(gw_ns_, "tailscale0", "100.90.0.1/16");
  EXPECT_TRUE(eventually(
      [&] {
        return listens_exactly(
            {at("100.80.3.1"), at("100.90.0.1"), at("fd7a:1234:5678::1"), at("127.0.0.1")});
      },
      10s))
      << ::testing::PrintToString(bridge_sockets());
  EXPECT_EQ(gw_.log_text().find("0.0.0.0"), std::string::npos) << gw_.log_text();
  EXPECT_EQ(gw_.terminate(), 0) << gw_.log_text();
}

// An ISP uplink in CGNAT space is in 100.64/10 too: `interfaces` keeps it out, for the bridge
// and for the A records of `vespid-gateway dns-sd zone`.
TEST_F(TailnetRanges, InterfacesLeaveOutAnUplinkInTheSameRange) {
  lab_->addr_add(gw_ns_, "tailscale0", "100.100.4.1/16");
  lab_->addr_add(peer_ns_, "tp" + id_, "100.100.4.2/16");
  lab_->addr_add(gw_ns_, "cg" + id_, "100.70.1.1/24");
  start_gateway({{"interfaces", json::array({"tailscale0"})}, {"magicdns", false}});
  ASSERT_TRUE(eventually(
      [&] {
        return listens_exactly({at("100.100.4.1"), at("127.0.0.1")});
      },
      10s))
      << ::testing::PrintToString(bridge_sockets()) << "\n"
      << gw_.log_text();
  EXPECT_TRUE(hello_answered("100.100.4.1"));
  EXPECT_FALSE(hello_answered("100.70.1.1")) << "the uplink's CGNAT address must not count";
  EXPECT_EQ(gw_.terminate(), 0) << gw_.log_text();

  // The zone's A records: the tailnet interface's address only...
  auto zone = [&] {
    return lab_
        ->run(gw_ns_,
              {gateway_bin(), "dns-sd", "zone", "--config", dir_.file("cfg.json"), "--state-dir",
               dir_.file("state"), "--domain", "vespid.example.net", "--host", "gw"})
        .out;
  };
  std::string z = zone();
  EXPECT_NE(z.find("gw.vespid.example.net.\tA\t100.100.4.1"), std::string::npos) << z;
  EXPECT_EQ(z.find("100.70.1.1"), std::string::npos) << z;
  // ...and both without `interfaces`, which is what makes the check above mean something.
  write_config({{"plugins",
                 {{"instances", json::array({{{"name", "tailnet"}, {"plugin", "tailnet"}},
                                             {{"name", "bridge"},
                                              {"plugin", "bridge"},
                                              {"config", {{"bind", "tailnet"}}}}})}}}});
  z = zone();
  EXPECT_NE(z.find("gw.vespid.example.net.\tA\t100.100.4.1"), std::string::npos) << z;
  EXPECT_NE(z.find("gw.vespid.example.net.\tA\t100.70.1.1"), std::string::npos) << z;
}

// The MagicDNS name from `tailscale status --json` reaches the log and, through Bonjour on the
// tailnet interface, a peer's avahi-browse as `tailnetDns`.
TEST_F(TailnetRanges, TheMagicDnsNameIsLoggedAndPublished) {
  for (const char* tool : {"avahi-daemon", "avahi-browse", "dbus-daemon", "unshare"}) {
    if (run_command({"sh", "-c", std::string("command -v ") + tool}).exit_code != 0) {
      VESPID_SKIP_UNLESS_CI(tool << " is not installed (scripts/install-deps.sh installs it)");
    }
  }
  lab_->addr_add(gw_ns_, "tailscale0", "100.100.5.1/16");
  lab_->addr_add(peer_ns_, "tp" + id_, "100.100.5.2/16");
  auto gw_mdns = lab_->start_mdns(gw_ns_, "tailscale0", "vsptgw" + id_);
  auto peer_mdns = lab_->start_mdns(peer_ns_, "tp" + id_, "vsptpeer" + id_);
  ASSERT_TRUE(lab_->wait_avahi_ready(gw_mdns, 15s)) << read_file(gw_mdns.log);
  ASSERT_TRUE(lab_->wait_avahi_ready(peer_mdns, 15s)) << read_file(peer_mdns.log);

  std::ofstream(dir_.file("status.json")) << kStatusJson;
  const std::string cli =
      fake_tailscale("tailscale", "echo \"$@\" >> '" + dir_.file("args.log") + "'\ncat '" +
                                      dir_.file("status.json") + "'\n");
  start_gateway({{"tailscale_command", cli}, {"settle_ms", 50}},
                {{"DBUS_SYSTEM_BUS_ADDRESS", gw_mdns.bus_address}},
                json::array({{{"name", "mdns"}, {"plugin", "bonjour"}}}));
  ASSERT_TRUE(eventually(
      [&] {
        return gw_.log_text().find("MagicDNS name gw.example-tailnet.ts.net (from " + cli +
                                   " status)") != std::string::npos;
      },
      10s))
      << gw_.log_text();
  EXPECT_EQ(read_file(dir_.file("args.log")).substr(0, 14), "status --json\n");

  std::string txt;
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& line : lab_->browse(peer_mdns, "_vespid-bridge._tcp")) {
          if (line.find(";" + std::to_string(kPort) + ";") != std::string::npos) txt = line;
        }
        return !txt.empty();
      },
      20s))
      << gw_.log_text();
  EXPECT_NE(txt.find("\"tailnetDns=gw.example-tailnet.ts.net\""), std::string::npos) << txt;
  EXPECT_NE(txt.find(";100.100.5.1;"), std::string::npos) << txt;
  EXPECT_EQ(gw_.terminate(), 0) << gw_.log_text();
}

// tailscaled may hang (starting, or wedged): the query runs beside the loop, the bridge binds
// at once, and the CLI is killed after 5 s with a warning.
TEST_F(TailnetRanges, AHangingTailscaleCliIsKilledAndDoesNotHoldUpBinding) {
  lab_->addr_add(gw_ns_, "tailscale0", "100.100.6.1/16");
  const std::string pid_file = dir_.file("cli.pid");
  const std::string cli =
      fake_tailscale("tailscale-hangs", "echo $$ > '" + pid_file + "'\nexec sleep 60\n");
  const auto started = std::chrono::steady_clock::now();
  start_gateway({{"tailscale_command", cli}, {"settle_ms", 50}});
  ASSERT_TRUE(eventually(
      [&] {
        return listens_exactly({at("100.100.6.1"), at("127.0.0.1")});
      },
      10s))
      << ::testing::PrintToString(bridge_sockets()) << "\n"
      << gw_.log_text();
  ASSERT_TRUE(eventually([&] { return !read_file(pid_file).empty(); }, 5s));
  const std::string cli_pid = std::to_string(std::stoi(read_file(pid_file)));
  const std::string proc = "/proc/" + cli_pid;
  EXPECT_EQ(::access(proc.c_str(), F_OK), 0) << "bound while the CLI still runs";
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "binding waited for the CLI";

  ASSERT_TRUE(eventually(
      [&] {
        return gw_.log_text().find(cli + " status --json did not answer within 5 s; killed it") !=
               std::string::npos;
      },
      15s))
      << gw_.log_text();
  EXPECT_GE(std::chrono::steady_clock::now() - started, 4s);
  EXPECT_TRUE(eventually([&] { return ::access(proc.c_str(), F_OK) != 0; }, 5s))
      << "the CLI (pid " << cli_pid << ") was killed and reaped";
  EXPECT_EQ(gw_.log_text().find("MagicDNS name gw"), std::string::npos);
  EXPECT_TRUE(listens_exactly({at("100.100.6.1"), at("127.0.0.1")}));
  EXPECT_EQ(gw_.terminate(), 0) << gw_.log_text();
}

// No tailscale CLI at all (Headscale users may run another client): no name, no warning, and
// binding as usual.
TEST_F(TailnetRanges, AMissingTailscaleCliIsFine) {
  lab_->addr_add(gw_ns_, "tailscale0", "100.100.7.1/16");
  start_gateway({{"tailscale_command", dir_.file("no-such-tailscale")}, {"settle_ms", 50}});
  ASSERT_TRUE(eventually(
      [&] {
        return listens_exactly({at("100.100.7.1"), at("127.0.0.1")});
      },
      10s))
      << ::testing::PrintToString(bridge_sockets()) << "\n"
      << gw_.log_text();
  const std::string log = gw_.log_text();
  EXPECT_EQ(log.find("MagicDNS name"), std::string::npos) << log;
  EXPECT_EQ(log.find("no-such-tailscale"), std::string::npos) << "debug level only\n" << log;
  EXPECT_EQ(gw_.terminate(), 0) << log;
}

// An address change while a query runs asks again once it is done: at boot the first answer
// may predate the tailnet (tailscaled still starting), and the name must not wait for the next
// address change.
TEST_F(TailnetRanges, AChangeDuringAQueryIsAskedAgain) {
  // No IPv6 here: its link-local addresses finishing duplicate address detection would be
  // address events of their own, asking again whether or not the change below was remembered.
  ASSERT_EQ(lab_->run(gw_ns_, {"sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                               "net.ipv6.conf.default.disable_ipv6=1"})
                .exit_code,
            0);
  const std::string state = dir_.file("status.json");
  std::ofstream(state) << R"({"BackendState": "Starting", "Self": {"DNSName": ""}})";
  // Reads the state at once, answers a while later: the test changes the state in between.
  const std::string cli =
      fake_tailscale("tailscale-slow", "s=$(cat '" + state + "')\necho x >> '" + dir_.file("runs") +
                                           "'\nsleep 1.5\nprintf '%s' \"$s\"\n");
  start_gateway({{"tailscale_command", cli}, {"settle_ms", 50}});
  ASSERT_TRUE(eventually([&] { return !read_file(dir_.file("runs")).empty(); }, 5s));
  std::ofstream(state) << kStatusJson;
  lab_->addr_add(gw_ns_, "tailscale0", "100.100.5.1/16");  // while the first query sleeps
  EXPECT_TRUE(eventually(
      [&] {
        return gw_.log_text().find("MagicDNS name gw.example-tailnet.ts.net") != std::string::npos;
      },
      10s))
      << gw_.log_text();
  EXPECT_EQ(gw_.terminate(), 0) << gw_.log_text();
}

}  // namespace
}  // namespace vespid::test
