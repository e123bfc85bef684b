// The node host finds the gateway by Bonjour (announced by either discovery plugin, bonjour or
// dnssd), in network namespaces it creates: the gateway and
// an avahi-daemon in one namespace, the real `vespid-agent` and a second avahi-daemon in a peer
// namespace across a veth pair. `discover --json` must see the gateway's ports and TLS pin;
// `connect --discover` pairs over https with that pin and `start` holds the wss link with it
// (no CA is configured: the pin is the only thing that can make TLS pass); a certificate other
// than the pinned one is refused, on the link and in pairing. Every case runs with each of the
// agent's browsers (`--browser avahi`: Avahi's D-Bus client; `--browser dnssd`: dns_sd.h over
// Avahi's compatibility library), which must report the same gateways.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "build_paths.hpp"
#include "gateway_process.hpp"
#include "netns_lab.hpp"
#include "operator_client.hpp"
#include "skip_or_fail.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kApiPort = 3001;
constexpr int kWsPort = 3002;
constexpr const char* kGwAddress = "192.168.214.1";
constexpr const char* kName = "Vespid Disc GW";

// A background process (vespid-agent start, avahi-publish) with its output in a log file.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const EnvOverrides& env, std::string log)
      : log_(std::move(log)) {
    const int out = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_ = spawn(argv, env, in, out, out, {"VESPID_"});
    ::close(out);
    ::close(in);
  }
  ~Background() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::string log() const { return read_file(log_); }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

class AgentDiscovery : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (auto why = NetnsLab::unavailable_reason(); !why.empty()) VESPID_SKIP_UNLESS_CI(why);
    for (const char* tool : {"avahi-daemon", "avahi-publish", "dbus-daemon", "unshare", "curl"}) {
      if (run_command({"sh", "-c", std::string("command -v ") + tool}).exit_code != 0) {
        VESPID_SKIP_UNLESS_CI(tool << " is not installed (scripts/install-deps.sh installs it)");
      }
    }
    lab_ = std::make_unique<NetnsLab>(dir_.path());
    id_ = std::to_string(::getpid());
    gw_ns_ = lab_->add_ns("dgw");
    peer_ns_ = lab_->add_ns("dpeer");
    lab_->veth(gw_ns_, "da" + id_, peer_ns_, "db" + id_);
    lab_->addr_add(gw_ns_, "da" + id_, std::string(kGwAddress) + "/24");
    lab_->addr_add(peer_ns_, "db" + id_, "192.168.214.2/24");
    gw_mdns_ = lab_->start_mdns(gw_ns_, "da" + id_, "vspdgw" + id_);
    peer_mdns_ = lab_->start_mdns(peer_ns_, "db" + id_, "vspdpeer" + id_);
    ASSERT_TRUE(lab_->wait_avahi_ready(gw_mdns_, 15s)) << read_file(gw_mdns_.log);
    ASSERT_TRUE(lab_->wait_avahi_ready(peer_mdns_, 15s)) << read_file(peer_mdns_.log);
  }

  void TearDown() override {
    if (gw_.running()) {
      EXPECT_EQ(gw_.terminate(), 0) << gw_.log_text();
    }
  }

  // The REST API and the node hosts' /ws on listeners of their own, both TLS with the
  // certificate the gateway generates (self-signed: no CA vouches for it), published by the
  // discovery plugin `plugin` (bonjour or dnssd).
  static json gateway_config(const std::string& plugin, const std::string& name, int api_port,
                             int ws_port) {
    json api = {{"host", "lan"},
                {"port", api_port},
                {"tls", true},
                {"routes", json::array({{{"prefix", "/v1/"}, {"dialect", "rest.v1"}},
                                        {{"prefix", "/internal/v1/"}, {"dialect", "rest.v1"}}})}};
    json ws = {
        {"host", "lan"},
        {"port", ws_port},
        {"tls", true},
        {"routes",
         json::array({{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}}})}};
    return {{"plugins",
             {{"instances", json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                                         {{"name", "local"}, {"plugin", "unix"}},
                                         {{"name", "mdns"}, {"plugin", plugin}},
                                         {{"name", "api"}, {"plugin", "ws"}, {"config", api}},
                                         {{"name", "ws"}, {"plugin", "ws"}, {"config", ws}}})}}},
            {"discovery", {{"display_name", name}}}};
  }

  void start_gateway() {
    std::ofstream(dir_.file("cfg.json")) << gateway_config("bonjour", kName, kApiPort, kWsPort);
    gw_.set_launcher(NetnsLab::in_ns(gw_ns_));
    restart_gateway();
  }

  void restart_gateway() {
    if (gw_.running()) {
      ASSERT_EQ(gw_.terminate(), 0) << gw_.log_text();
    }
    gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")},
              {{"DBUS_SYSTEM_BUS_ADDRESS", gw_mdns_.bus_address}});
    ASSERT_TRUE(gw_.wait_ready()) << gw_.log_text();
  }

  std::string fingerprint(const std::string& state = "state") {
    auto r = run_command({gateway_bin(), "tls", "fingerprint", "--state-dir", dir_.file(state)});
    std::string fp = r.out;
    while (!fp.empty() && (fp.back() == '\n' || fp.back() == ' ')) fp.pop_back();
    return fp;
  }

  // An org with an admin (for the REST check) and a pairing token, over the admin socket.
  std::string bootstrap_and_pairing_token() {
    auto admin = cli::OperatorClient::connect(gw_.socket_path());
    if (org_id_.empty()) {
      org_id_ = admin.call("orgs.create", {{"name", "acme"}})["org"]["id"];
      admin.call("users.create", {{"name", "alice"}, {"org", "acme"}, {"role", "admin"}});
      admin_token_ = admin.call("tokens.create", {{"user", "alice"}})["token"];
    }
    return admin.call("agents.pairingToken", {{"org", "acme"}})["token"];
  }

  EnvOverrides agent_env() const {
    return {{"DBUS_SYSTEM_BUS_ADDRESS", peer_mdns_.bus_address},
            {"VESPID_AGENT_CONFIG", dir_.file("agent.json")},
            {"VESPID_AGENT_ECHO_DELAY_MS", "0"}};
  }

  // The real vespid-agent in the peer namespace (stdin is not a terminal); the commands that
  // browse do it with the browser under test.
  CommandResult agent(std::vector<std::string> args) {
    if ((args.at(0) == "discover" || args.at(0) == "connect") &&
        std::find(args.begin(), args.end(), "--browser") == args.end()) {
      args.insert(args.end(), {"--browser", GetParam()});
    }
    args.insert(args.begin(), VESPID_AGENT_BIN);
    return lab_->run(peer_ns_, args, agent_env(), 60s);
  }

  std::unique_ptr<Background> start_agent() {
    auto argv = NetnsLab::in_ns(peer_ns_);
    for (const char* a : {VESPID_AGENT_BIN, "start", "--reconnect-max-ms", "1000"})
      argv.push_back(a);
    return std::make_unique<Background>(argv, agent_env(), dir_.file("agent.log"));
  }

  // `discover --json` until `name` shows up (mDNS answers take a moment after start).
  json discovered(const std::string& name, const std::string& browser = GetParam()) {
    json found;
    eventually(
        [&] {
          CommandResult r =
              agent({"discover", "--json", "--timeout-ms", "1500", "--browser", browser});
          json all = json::parse(r.out, nullptr, false);
          if (!all.is_array()) return false;
          for (const auto& g : all) {
            if (g.value("name", "") == name) found = g;
          }
          return !found.is_null();
        },
        30s);
    return found;
  }

  // GET /v1/orgs/<org>/agents inside the gateway's namespace, verified against the gateway's
  // own certificate (it is its own CA and names 127.0.0.1).
  std::string agent_status(const std::string& agent_id) {
    CommandResult r = lab_->run(
        gw_ns_,
        {"curl", "-sS", "--cacert", dir_.file("state/tls/gateway.crt"), "-H",
         "Authorization: Bearer " + admin_token_,
         "https://127.0.0.1:" + std::to_string(kApiPort) + "/v1/orgs/" + org_id_ + "/agents"});
    json body = json::parse(r.out, nullptr, false);
    if (!body.is_object()) return "";
    for (const auto& a : body.value("agents", json::array())) {
      if (a.value("id", "") == agent_id) return a.value("status", "");
    }
    return "";
  }

  json credentials() { return json::parse(read_file(dir_.file("agent.json")), nullptr, false); }

  // A second record of the type, published by avahi-publish from the gateway's namespace (so it
  // resolves to the gateway's address).
  std::unique_ptr<Background> publish(const std::string& name, const std::vector<std::string>& txt,
                                      int port) {
    auto argv = NetnsLab::in_ns(gw_ns_);
    for (std::string a : {"avahi-publish", "-s", name.c_str(), "_vespid-gw._tcp"})
      argv.push_back(a);
    argv.push_back(std::to_string(port));
    for (const auto& kv : txt) argv.push_back(kv);
    return std::make_unique<Background>(
        argv, EnvOverrides{{"DBUS_SYSTEM_BUS_ADDRESS", gw_mdns_.bus_address}},
        dir_.file("publish-" + std::to_string(++published_) + ".log"));
  }

  TempDir dir_{"vespid-agent-discover"};
  std::unique_ptr<NetnsLab> lab_;
  std::string id_, gw_ns_, peer_ns_;
  NetnsLab::Mdns gw_mdns_, peer_mdns_;
  GatewayProcess gw_;
  std::string org_id_, admin_token_;
  int published_ = 0;
};

TEST_P(AgentDiscovery, DiscoverListsTheGatewayWithItsPortsAndPin) {
  start_gateway();
  const std::string fp = fingerprint();
  ASSERT_EQ(fp.size(), 64u) << fp;
  json g = discovered(kName);
  ASSERT_FALSE(g.is_null()) << gw_.log_text();
  EXPECT_EQ(g["address"], kGwAddress) << g.dump();
  EXPECT_EQ(g["port"], kWsPort) << g.dump();
  EXPECT_EQ(g["gatewayPort"], kWsPort) << g.dump();
  EXPECT_EQ(g["apiPort"], kApiPort) << g.dump();
  EXPECT_EQ(g["gatewayTls"], true) << g.dump();
  EXPECT_EQ(g["apiTls"], true) << g.dump();
  EXPECT_EQ(g["gatewayTlsSha256"], fp) << g.dump();
  EXPECT_EQ(g["apiTlsSha256"], fp) << g.dump();
  EXPECT_EQ(g["apiUrl"], "https://" + std::string(kGwAddress) + ":" + std::to_string(kApiPort));
  EXPECT_EQ(g["host"], "vspdgw" + id_ + ".local") << g.dump();

  CommandResult text = agent({"discover", "--timeout-ms", "1500"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find(kName), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("tls sha256: " + fp), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("api " + std::to_string(kApiPort) + " (https)"), std::string::npos)
      << text.out;

  CommandResult none = agent({"discover", "--type", "_nothing-here._tcp", "--timeout-ms", "500"});
  EXPECT_EQ(none.exit_code, 1) << none.out << none.err;
  EXPECT_NE(none.err.find("no gateway found"), std::string::npos) << none.err;
}

// Issue 18: the node host finds a gateway whichever plugin announces it. One gateway publishes
// through bonjour (Avahi's D-Bus client), a second one beside it through dnssd (dns_sd.h over
// Avahi's compatibility library); `discover` lists both with their own ports and pins.
TEST_P(AgentDiscovery, DiscoverFindsGatewaysAnnouncedByEitherPlugin) {
  start_gateway();
  constexpr const char* kDnssdName = "Vespid DnsSd GW";
  constexpr int kApiPort2 = 3011, kWsPort2 = 3012;
  std::ofstream(dir_.file("cfg2.json")) << gateway_config("dnssd", kDnssdName, kApiPort2, kWsPort2);
  GatewayProcess gw2;
  gw2.set_launcher(NetnsLab::in_ns(gw_ns_));
  gw2.start(dir_.file("state2"), {"--config", dir_.file("cfg2.json")},
            {{"DBUS_SYSTEM_BUS_ADDRESS", gw_mdns_.bus_address}});
  ASSERT_TRUE(gw2.wait_ready()) << gw2.log_text();

  struct Expect {
    const char* name;
    int api, ws;
    std::string fp;
    const GatewayProcess& gw;
  };
  for (const Expect& e : {Expect{kName, kApiPort, kWsPort, fingerprint(), gw_},
                          Expect{kDnssdName, kApiPort2, kWsPort2, fingerprint("state2"), gw2}}) {
    SCOPED_TRACE(e.name);
    ASSERT_EQ(e.fp.size(), 64u) << e.fp;
    json g = discovered(e.name);
    ASSERT_FALSE(g.is_null()) << e.gw.log_text();
    EXPECT_EQ(g["address"], kGwAddress) << g.dump();
    EXPECT_EQ(g["gatewayPort"], e.ws) << g.dump();
    EXPECT_EQ(g["apiPort"], e.api) << g.dump();
    EXPECT_EQ(g["gatewayTlsSha256"], e.fp) << g.dump();
    EXPECT_EQ(g["apiUrl"], "https://" + std::string(kGwAddress) + ":" + std::to_string(e.api));
    // Whichever browser found it, the agent reports the same gateway, field for field.
    const std::string other = GetParam() == "avahi" ? "dnssd" : "avahi";
    EXPECT_EQ(discovered(e.name, other), g) << other << " vs " << GetParam();
  }
  CommandResult text = agent({"discover", "--timeout-ms", "1500"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find(kName), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(kDnssdName), std::string::npos) << text.out;
  EXPECT_EQ(gw2.terminate(), 0) << gw2.log_text();
}

TEST_P(AgentDiscovery, ConnectDiscoverPairsAndTheAgentRunsOverPinnedWss) {
  start_gateway();
  const std::string fp = fingerprint();
  ASSERT_FALSE(discovered(kName).is_null()) << gw_.log_text();
  // A second gateway answers too: without a terminal the agent must not guess.
  auto decoy = publish("Decoy GW", {"role=gateway", "gatewayPort=4444", "apiPort=4445"}, 4444);
  ASSERT_FALSE(discovered("Decoy GW").is_null()) << decoy->log();

  const std::string token = bootstrap_and_pairing_token();
  CommandResult ambiguous =
      agent({"connect", "--discover", "--pairing-token", token, "--timeout-ms", "2000"});
  EXPECT_EQ(ambiguous.exit_code, 1) << ambiguous.out << ambiguous.err;
  EXPECT_NE(ambiguous.err.find("--gateway-name"), std::string::npos) << ambiguous.err;
  EXPECT_NE(ambiguous.err.find("Decoy GW"), std::string::npos) << ambiguous.err;
  EXPECT_NE(ambiguous.err.find(kName), std::string::npos) << ambiguous.err;

  CommandResult c = agent({"connect", "--discover", "--gateway-name", kName, "--pairing-token",
                           token, "--name", "disc-host", "--tags", "disc", "--timeout-ms", "2000"});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_NE(c.out.find("TLS pinned: sha256 " + fp), std::string::npos) << c.out;
  json creds = credentials();
  ASSERT_TRUE(creds.is_object());
  EXPECT_EQ(creds["gatewayTlsSha256"], fp) << creds.dump();
  EXPECT_EQ(creds["apiTlsSha256"], fp) << creds.dump();
  EXPECT_EQ(creds["apiUrl"], "https://" + std::string(kGwAddress) + ":" + std::to_string(kApiPort));
  EXPECT_EQ(creds["gatewayWsUrl"],
            "wss://" + std::string(kGwAddress) + ":" + std::to_string(kWsPort) + "/ws");
  struct stat st {};
  ASSERT_EQ(::stat(dir_.file("agent.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto host = start_agent();
  const std::string id = creds.value("agentId", "");
  EXPECT_TRUE(eventually([&] { return agent_status(id) == "online"; }, 20s))
      << host->log() << gw_.log_text();

  CommandResult run =
      run_command({cli_bin(), "--state-dir", dir_.file("state"), "dispatch", "send", "--org",
                   "acme", "--user", "alice", "--tag", "disc", "--payload",
                   R"({"engine":"vespid.echo.v1","message":"found by bonjour"})", "--wait"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err << host->log();
  EXPECT_NE(run.out.find("found by bonjour"), std::string::npos) << run.out;
}

TEST_P(AgentDiscovery, ACertificateOtherThanThePinnedOneIsRefused) {
  start_gateway();
  const std::string first = fingerprint();
  ASSERT_FALSE(discovered(kName).is_null()) << gw_.log_text();
  CommandResult c = agent({"connect", "--discover", "--pairing-token",
                           bootstrap_and_pairing_token(), "--timeout-ms", "2000"});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  const std::string id = credentials().value("agentId", "");

  // Someone else's certificate at the gateway's address: the pinned link refuses it and says
  // which certificate it expected and which it got.
  ASSERT_EQ(gw_.terminate(), 0) << gw_.log_text();
  std::filesystem::remove(dir_.file("state/tls/gateway.crt"));
  std::filesystem::remove(dir_.file("state/tls/gateway.key"));
  restart_gateway();
  const std::string second = fingerprint();
  ASSERT_EQ(second.size(), 64u);
  ASSERT_NE(second, first);

  auto host = start_agent();
  const std::string expected =
      "is not the pinned one: pinned sha256 " + first + ", presented sha256 " + second;
  EXPECT_TRUE(eventually([&] { return host->log().find(expected) != std::string::npos; }, 20s))
      << host->log();
  EXPECT_NE(agent_status(id), "online") << host->log();

  // Pairing again with that credentials file (--force: it is paired already): the record now
  // announces the new certificate, which is not the one pinned, and --force does not override a
  // pin.
  ASSERT_TRUE(
      eventually([&] { return discovered(kName).value("gatewayTlsSha256", "") == second; }, 30s));
  CommandResult again = agent({"connect", "--discover", "--force", "--pairing-token",
                               bootstrap_and_pairing_token(), "--timeout-ms", "2000"});
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
  EXPECT_NE(again.err.find(first), std::string::npos) << again.err;
  EXPECT_NE(again.err.find(second), std::string::npos) << again.err;
}

// A record that lies about the certificate: pairing over https checks the handshake against the
// announced pin and refuses, naming both fingerprints, before the pairing token is sent.
TEST_P(AgentDiscovery, PairingRefusesACertificateOtherThanTheAnnouncedOne) {
  start_gateway();
  const std::string real = fingerprint();
  const std::string fake(64, 'c');
  auto spoof = publish("Spoof GW",
                       {"role=gateway", "gatewayPort=" + std::to_string(kWsPort),
                        "apiPort=" + std::to_string(kApiPort), "gatewayTls=1",
                        "gatewayTlsSha256=" + fake, "apiTls=1", "apiTlsSha256=" + fake},
                       kWsPort);
  ASSERT_FALSE(discovered("Spoof GW").is_null()) << spoof->log();
  CommandResult c = agent({"connect", "--discover", "--gateway-name", "Spoof GW", "--pairing-token",
                           bootstrap_and_pairing_token(), "--timeout-ms", "2000"});
  EXPECT_EQ(c.exit_code, 1) << c.out << c.err;
  EXPECT_NE(c.err.find("pinned sha256 " + fake + ", presented sha256 " + real), std::string::npos)
      << c.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("agent.json")));
}

INSTANTIATE_TEST_SUITE_P(Browsers, AgentDiscovery, ::testing::Values("avahi", "dnssd"),
                         [](const auto& p) { return p.param; });

// No avahi-daemon reachable: a clear error and exit 3, not a crash or a hang, with either
// browser (the dnssd one reaches avahi-daemon over the same bus, through Avahi's compatibility
// library); the browser chosen by the environment as by the flag.
class AgentDiscoveryWithoutAvahi : public ::testing::TestWithParam<std::string> {};

TEST_P(AgentDiscoveryWithoutAvahi, SaysSoAndExits3) {
  TempDir dir("vespid-agent-noavahi");
  const std::string expected =
      GetParam() == "avahi" ? "cannot reach avahi-daemon" : "cannot reach the mDNS daemon";
  CommandResult r =
      run_command({VESPID_AGENT_BIN, "discover", "--timeout-ms", "500", "--browser", GetParam()},
                  {{"DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + dir.file("no-bus")}});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
  // dns_sd must not print Avahi's compatibility warning: the agent uses the layer on purpose.
  EXPECT_EQ(r.err.find("WARNING"), std::string::npos) << r.err;
  CommandResult c = run_command({VESPID_AGENT_BIN, "connect", "--discover", "--pairing-token",
                                 "o.t", "--config", dir.file("agent.json")},
                                {{"DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + dir.file("no-bus")},
                                 {"VESPID_AGENT_BROWSER", GetParam()}});
  EXPECT_EQ(c.exit_code, 3) << c.out << c.err;
  EXPECT_NE(c.err.find(expected), std::string::npos) << c.err;
}

INSTANTIATE_TEST_SUITE_P(Browsers, AgentDiscoveryWithoutAvahi, ::testing::Values("avahi", "dnssd"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace vespid::test
