// `pairing`: thousands of bridge nodes and node hosts pairing at once, at two sizes in the same
// run (--count and a tenth of it), each on a fresh gateway and state directory. Pairing is
// linear when the time per node is the same at both sizes; the ratio of the two is the figure.
//   bridge:  every pair-request sent (256 connects in flight), the pending requests approved
//            over 8 admin connections (64 pipelined each), until every node has pair-ok and
//            hello-ok;
//   tokens:  single-use pairing tokens minted on the admin socket, all unused at once (256
//            pipelined), under agents.max_pairing_tokens_per_org = the count;
//   hosts:   each token used by POST /v1/agents/pair from 8 threads.
// Plus the time to list what is pending (`nodes.pending`) with every bridge request waiting.
#include <cmath>

#include "clock.hpp"
#include "scenario_common.hpp"

namespace vespid::bench {

namespace {

using nlohmann::json;

struct PairingTimes {
  double bridge_s = 0;
  double mint_s = 0;
  double hosts_s = 0;
};

double since(uint64_t t0) {
  return static_cast<double>(now_ns() - t0) / 1e9;
}

PairingTimes pair_all(IoPool& pool, const CommonOptions& c, const std::string& dir, int n) {
  GatewayOptions g = c.gateway;
  g.state_dir = dir;
  // The bench config allows 20,000 pending requests and tokens; make room for more.
  const int room = std::max(20000, n);
  g.config_patch = {{"pairing", {{"max_pending", room}, {"max_pending_per_peer", room}}},
                    {"agents", {{"max_pairing_tokens_per_org", room}}},
                    {"limits", {{"max_connections", std::max(60000, n + 1000)}}}};
  GatewayRunner gw(g);
  gw.start();
  PairingTimes t;
  {
    BridgeFleet fleet(pool, gw.bridge_port());
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back("pair-" + std::to_string(i));
    uint64_t t0 = now_ns();
    auto creds = fleet.pair(ids, gw.socket_path(), gw.org_id(), 600);
    t.bridge_s = since(t0);
    if (static_cast<int>(creds.size()) != n) throw std::runtime_error("pairing: nodes missing");
    fleet.close_all();
  }
  uint64_t t0 = now_ns();
  auto tokens = WsFleet::mint_tokens(n, gw.socket_path(), gw.org_id());
  t.mint_s = since(t0);
  t0 = now_ns();
  auto hosts = WsFleet::pair_with_tokens(tokens, gw.api_port());
  t.hosts_s = since(t0);
  if (static_cast<int>(hosts.size()) != n) throw std::runtime_error("pairing: hosts missing");
  gw.stop();
  return t;
}

}  // namespace

int run_pairing(const CommonOptions& c, const PairingOptions& o) {
  raise_nofile(2 * o.count + 4096);
  IoPool pool(c.threads);
  Report report("pairing");
  json setup = setup_facts(c);
  setup["count"] = o.count;
  report.set("setup", setup);
  RunDir dir(c, "pairing");
  const int small = std::max(1, o.count / 10);
  note("pairing: " + std::to_string(small) + " of each");
  const PairingTimes a = pair_all(pool, c, dir.path() + "/small", small);
  note("pairing: " + std::to_string(o.count) + " of each");
  const PairingTimes b = pair_all(pool, c, dir.path() + "/large", o.count);
  pool.stop();

  const std::string at_small = " at " + std::to_string(small);
  const std::string at_large = " at " + std::to_string(o.count);
  auto per = [](double s, int n) { return s * 1e6 / n; };
  auto row = [&](const std::string& what, double small_s, double large_s) {
    report.add_figure(what + at_small + ": per second", small / small_s, "/s");
    report.add_figure(what + at_large + ": per second", o.count / large_s, "/s");
    report.add_ratio(what + ": time per item" + at_large, per(large_s, o.count), "us",
                     "the same" + at_small, per(small_s, small));
  };
  row("bridge nodes paired (request, approval, pair-ok, hello-ok)", a.bridge_s, b.bridge_s);
  row("pairing tokens minted, all unused at once", a.mint_s, b.mint_s);
  row("node hosts paired with them (POST /v1/agents/pair)", a.hosts_s, b.hosts_s);
  return finish(report, c, false);
}

}  // namespace vespid::bench
