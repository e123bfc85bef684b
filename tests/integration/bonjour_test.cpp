// Bonjour publication end to end, in network namespaces: the gateway and a real avahi-daemon
// (on a private system bus) in one namespace, a second avahi-daemon in a peer namespace across a
// veth pair, and `avahi-browse -rtp` on the peer. What the peer resolves came over real mDNS.
// Every case runs once per discovery plugin: `bonjour` (Avahi's D-Bus client) and `dnssd` (the
// dns_sd.h API over Avahi's compatibility library) must publish the same records and recover
// the same way; only their log lines differ.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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

// One resolved line of `avahi-browse -rtp`:
// =;iface;proto;name;type;domain;host;address;port;"txt" "txt"
struct Resolved {
  std::string name, type, address;
  int port = 0;
  std::string txt;
  bool has(const std::string& kv) const { return txt.find("\"" + kv + "\"") != std::string::npos; }
};

std::vector<Resolved> parse(const std::vector<std::string>& lines) {
  std::vector<Resolved> out;
  for (const auto& line : lines) {
    std::vector<std::string> f;
    size_t start = 0;
    for (int i = 0; i < 9; ++i) {
      size_t semi = line.find(';', start);
      if (semi == std::string::npos) break;
      f.push_back(line.substr(start, semi - start));
      start = semi + 1;
    }
    if (f.size() < 9) continue;
    out.push_back(Resolved{f[3], f[4], f[7], std::atoi(f[8].c_str()), line.substr(start)});
  }
  return out;
}

// The resolution of `port`, preferring an IPv4 address if the peer saw several.
const Resolved* find_port(const std::vector<Resolved>& rs, int port) {
  const Resolved* any = nullptr;
  for (const auto& r : rs) {
    if (r.port != port) continue;
    if (r.address.find(':') == std::string::npos) return &r;
    if (any == nullptr) any = &r;
  }
  return any;
}

// A discovery plugin under test and what it logs where the two differ.
struct Publisher {
  std::string plugin;       // the plugin id in the gateway's config
  std::string lost;         // logged when the mDNS daemon goes away
  std::string unreachable;  // logged when there is no daemon (nor bus) to talk to
};

const Publisher kBonjour{"bonjour", "lost avahi-daemon", "cannot reach avahi-daemon"};
const Publisher kDnssd{"dnssd", "lost the mDNS daemon", "cannot reach the mDNS daemon"};

class Bonjour : public ::testing::TestWithParam<Publisher> {
 protected:
  void SetUp() override {
    if (auto why = NetnsLab::unavailable_reason(); !why.empty()) VESPID_SKIP_UNLESS_CI(why);
    for (const char* tool : {"avahi-daemon", "avahi-browse", "dbus-daemon", "unshare"}) {
      if (run_command({"sh", "-c", std::string("command -v ") + tool}).exit_code != 0) {
        VESPID_SKIP_UNLESS_CI(tool << " is not installed (scripts/install-deps.sh installs it)");
      }
    }
    lab_ = std::make_unique<NetnsLab>(dir_.path());
    id_ = std::to_string(::getpid());
    gw_ns_ = lab_->add_ns("mgw");
    peer_ns_ = lab_->add_ns("mpeer");
    lab_->veth(gw_ns_, "ma" + id_, peer_ns_, "mb" + id_);
    lab_->addr_add(gw_ns_, "ma" + id_, "192.168.213.1/24");
    lab_->addr_add(peer_ns_, "mb" + id_, "192.168.213.2/24");
    gw_mdns_ = lab_->start_mdns(gw_ns_, "ma" + id_, "vspgw" + id_);
    peer_mdns_ = lab_->start_mdns(peer_ns_, "mb" + id_, "vsppeer" + id_);
    ASSERT_TRUE(lab_->wait_avahi_ready(gw_mdns_, 15s)) << read_file(gw_mdns_.log);
    ASSERT_TRUE(lab_->wait_avahi_ready(peer_mdns_, 15s)) << read_file(peer_mdns_.log);
  }

  void start_gateway(const std::string& display_name = "Vespid Test GW",
                     const std::string& bus_address = "") {
    json bridge = {{"bind", "lan"}, {"port", 18790}};
    json tls_bridge = {{"bind", "lan"}, {"port", 18791}, {"tls", true}};
    json local_only = {{"bind", "loopback"}, {"port", 18792}};
    json cfg = {
        {"plugins",
         {{"instances",
           json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                        {{"name", "local"}, {"plugin", "unix"}},
                        {{"name", "mdns"}, {"plugin", GetParam().plugin}},
                        {{"name", "bridge"}, {"plugin", "bridge"}, {"config", bridge}},
                        {{"name", "bridge-tls"}, {"plugin", "bridge"}, {"config", tls_bridge}},
                        {{"name", "bridge-local"}, {"plugin", "bridge"}, {"config", local_only}},
                        {{"name", "ws"},
                         {"plugin", "ws"},
                         {"config", {{"host", "lan"}, {"port", 18793}}}}})}}},
        {"discovery",
         {{"display_name", display_name},
          {"bridge_service_types", json::array({"_vespid-bridge._tcp", "_clawdbot-bridge._tcp"})},
          {"tailnet_dns", "gw.example.ts.net"}}}};
    std::ofstream(dir_.file("cfg.json")) << cfg.dump(2);
    gw_.set_launcher(NetnsLab::in_ns(gw_ns_));
    gw_.start(
        dir_.file("state"), {"--config", dir_.file("cfg.json")},
        {{"DBUS_SYSTEM_BUS_ADDRESS", bus_address.empty() ? gw_mdns_.bus_address : bus_address}});
    ASSERT_TRUE(gw_.wait_ready()) << gw_.log_text();
  }

  // What the peer resolves for `type`, once `count` services (or more) are there.
  std::vector<Resolved> peer_sees(const std::string& type, size_t count,
                                  std::chrono::milliseconds timeout = 20s) {
    std::vector<Resolved> got;
    eventually(
        [&] {
          got = parse(lab_->browse(peer_mdns_, type));
          return got.size() >= count;
        },
        timeout);
    return got;
  }

  std::string fingerprint() {
    auto r = run_command({gateway_bin(), "tls", "fingerprint", "--state-dir", dir_.file("state")});
    std::string fp = r.out;
    while (!fp.empty() && (fp.back() == '\n' || fp.back() == ' ')) fp.pop_back();
    return fp;
  }

  TempDir dir_{"vespid-bonjour"};
  std::unique_ptr<NetnsLab> lab_;
  std::string id_, gw_ns_, peer_ns_;
  NetnsLab::Mdns gw_mdns_, peer_mdns_;
  GatewayProcess gw_;
};

TEST_P(Bonjour, PeerResolvesTheBridgesWithTheirTxt) {
  start_gateway();
  auto seen = peer_sees("_vespid-bridge._tcp", 2);
  ASSERT_EQ(seen.size(), 2u) << gw_.log_text();

  const Resolved* plain = find_port(seen, 18790);
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->name, "Vespid\\032Test\\032GW");  // avahi-browse escapes spaces
  EXPECT_EQ(plain->address, "192.168.213.1");
  EXPECT_TRUE(plain->has("role=gateway")) << plain->txt;
  EXPECT_TRUE(plain->has("bridgePort=18790")) << plain->txt;
  EXPECT_TRUE(plain->has("displayName=Vespid Test GW")) << plain->txt;
  EXPECT_NE(plain->txt.find("\"lanHost="), std::string::npos) << plain->txt;
  EXPECT_TRUE(plain->has("tailnetDns=gw.example.ts.net")) << plain->txt;
  EXPECT_TRUE(plain->has("protocol=1")) << plain->txt;
  EXPECT_TRUE(plain->has("gatewayPort=18793")) << plain->txt;
  EXPECT_EQ(plain->txt.find("bridgeTls"), std::string::npos) << plain->txt;

  const Resolved* tls = find_port(seen, 18791);
  ASSERT_NE(tls, nullptr);
  const std::string fp = fingerprint();
  ASSERT_EQ(fp.size(), 64u) << fp;
  EXPECT_TRUE(tls->has("bridgeTls=1")) << tls->txt;
  EXPECT_TRUE(tls->has("bridgeTlsSha256=" + fp)) << tls->txt;
  EXPECT_TRUE(tls->has("bridgePort=18791")) << tls->txt;

  // The WebSocket gateway is published under its own type, pointing at the bridge too.
  auto gws = peer_sees("_vespid-gw._tcp", 1);
  const Resolved* gw = find_port(gws, 18793);
  ASSERT_NE(gw, nullptr) << gw_.log_text();
  EXPECT_TRUE(gw->has("gatewayPort=18793")) << gw->txt;
  EXPECT_TRUE(gw->has("bridgePort=18790")) << gw->txt;
  EXPECT_EQ(gw->txt.find("gatewayTls"), std::string::npos) << gw->txt;

  // The loopback-only bridge is not published; the reference clients' type is answered too.
  EXPECT_EQ(find_port(seen, 18792), nullptr);
  auto claw = peer_sees("_clawdbot-bridge._tcp", 2);
  EXPECT_NE(find_port(claw, 18790), nullptr)
      << ::testing::PrintToString(lab_->browse(peer_mdns_, "_clawdbot-bridge._tcp"));
  // dnssd sets AVAHI_COMPAT_NOWARN: Avahi's layer must not call itself out on stderr.
  EXPECT_EQ(gw_.log_text().find("compatibility layer of Avahi"), std::string::npos)
      << gw_.log_text();
  EXPECT_EQ(gw_.terminate(), 0);
}

TEST_P(Bonjour, RecordsComeBackAfterAvahiRestarts) {
  start_gateway();
  ASSERT_EQ(peer_sees("_vespid-bridge._tcp", 2).size(), 2u) << gw_.log_text();

  lab_->stop_avahi(gw_mdns_);
  // avahi-daemon says goodbye on the way out, so the peer forgets the records.
  EXPECT_TRUE(
      eventually([&] { return lab_->browse(peer_mdns_, "_vespid-bridge._tcp").empty(); }, 15s));
  EXPECT_TRUE(
      eventually([&] { return gw_.log_text().find(GetParam().lost) != std::string::npos; }, 10s))
      << gw_.log_text();
  ASSERT_TRUE(gw_.running()) << "the gateway must survive avahi-daemon going away";

  lab_->start_avahi(gw_mdns_);
  ASSERT_TRUE(lab_->wait_avahi_ready(gw_mdns_, 15s)) << read_file(gw_mdns_.log);
  auto back = peer_sees("_vespid-bridge._tcp", 2, 30s);
  EXPECT_EQ(back.size(), 2u) << gw_.log_text();
  const Resolved* plain = find_port(back, 18790);
  ASSERT_NE(plain, nullptr);
  EXPECT_TRUE(plain->has("bridgePort=18790")) << plain->txt;
  EXPECT_EQ(gw_.terminate(), 0);
}

TEST_P(Bonjour, NameCollisionPicksTheNextName) {
  // The peer already has a service of that name and type: the gateway must rename and log it.
  auto taken = NetnsLab::in_ns(peer_ns_);
  std::string log = dir_.file("publish.log");
  std::vector<std::string> argv = {"sh", "-c",
                                   "exec avahi-publish -s 'Vespid Test GW' _vespid-bridge._tcp "
                                   "4242 role=someone-else > " +
                                       log + " 2>&1"};
  taken.insert(taken.end(), argv.begin(), argv.end());
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t squatter = spawn(taken, {{"DBUS_SYSTEM_BUS_ADDRESS", peer_mdns_.bus_address}}, devnull,
                         devnull, devnull);
  ::close(devnull);
  ASSERT_TRUE(
      eventually([&] { return read_file(log).find("Established") != std::string::npos; }, 15s))
      << read_file(log);

  start_gateway();
  auto seen = peer_sees("_vespid-bridge._tcp", 3);
  const Resolved* ours = find_port(seen, 18790);
  ASSERT_NE(ours, nullptr) << gw_.log_text();
  EXPECT_EQ(ours->name, "Vespid\\032Test\\032GW\\032\\0352");  // " #2", escaped
  EXPECT_NE(gw_.log_text().find("renamed to \"Vespid Test GW #2\""), std::string::npos)
      << gw_.log_text();
  ::kill(squatter, SIGTERM);
  ::waitpid(squatter, nullptr, 0);
  EXPECT_EQ(gw_.terminate(), 0);
}

// A bridge to publish but no system bus (so no daemon) behind it: a warning, not a crash; the
// gateway serves as usual.
TEST_P(Bonjour, WarnsWithoutADaemonAndKeepsRunning) {
  start_gateway("Vespid Test GW", "unix:path=" + dir_.file("no-such-bus"));
  EXPECT_TRUE(eventually(
      [&] { return gw_.log_text().find(GetParam().unreachable) != std::string::npos; }, 10s))
      << gw_.log_text();
  EXPECT_TRUE(gw_.running());
  EXPECT_EQ(gw_.terminate(), 0);
}

INSTANTIATE_TEST_SUITE_P(Plugins, Bonjour, ::testing::Values(kBonjour, kDnssd),
                         [](const auto& p) { return p.param.plugin; });

// No avahi-daemon at all (and no bus): a warning, not a crash; the gateway serves as usual.
// Bonjour warns at start even with nothing to publish (its client waits on the bus from the
// start); dnssd asks the daemon only when it has a record, which the case above covers.
TEST(BonjourWithoutAvahi, WarnsAndKeepsRunning) {
  TempDir dir("vespid-bonjour-none");
  json cfg = {{"plugins",
               {{"instances", json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                                           {{"name", "local"}, {"plugin", "unix"}},
                                           {{"name", "bonjour"}, {"plugin", "bonjour"}}})}}}};
  std::ofstream(dir.file("cfg.json")) << cfg.dump(2);
  GatewayProcess gw;
  gw.start(dir.file("state"), {"--config", dir.file("cfg.json")},
           {{"DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + dir.file("no-such-bus")}});
  ASSERT_TRUE(gw.wait_ready()) << gw.log_text();
  EXPECT_NE(gw.log_text().find("cannot reach avahi-daemon"), std::string::npos) << gw.log_text();
  EXPECT_EQ(gw.terminate(), 0);
}

}  // namespace
}  // namespace vespid::test
