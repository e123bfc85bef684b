// `reconnect`: N connected nodes drop at once (their sockets close, as when a network blips)
// and reconnect at once; the time until all are back and how many were refused, next to N
// NATS clients doing the same. With --tls, the same rounds again on a TLS bridge listener of
// the same gateway: handshakes per second and the gateway's CPU per reconnect, TLS against
// plain.
#include <algorithm>
#include <chrono>
#include <thread>

#include "nats.hpp"
#include "scenario_common.hpp"
#include "tls_client.hpp"

namespace vespid::bench {

namespace {

// What the rounds on one listener saw.
struct Rounds {
  double worst_s = 0;            // the slowest round: from the first connect to the last hello-ok
  double median_rate = 0;        // reconnects (handshakes) completed per second, median round
  double cpu_us_per_conn = 0;    // the gateway's CPU per reconnect, median round
  double bench_us_per_conn = 0;  // the bench's own (the nodes' side of TLS), median round
  std::size_t refused = 0, missing = 0;
  nlohmann::json rounds = nlohmann::json::array();
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

void pause(double s) {
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(s * 1000)));
}

// `rounds` times: every node of `fleet` drops and all reconnect at once. The gateway's CPU is
// read before the drop and after the pause that follows the round, so it holds the drop, the
// accept, the TLS handshake if any, the hello and whatever the gateway does after hello-ok.
Rounds run_rounds(BridgeFleet& fleet, const std::vector<NodeCred>& creds, const GatewayRunner& gw,
                  int rounds, double pause_s, const std::string& label) {
  Rounds out;
  std::vector<double> rates, cpus, bench_cpus;
  for (int r = 0; r < rounds; ++r) {
    const double cpu_before = read_proc_stats(gw.pid()).cpu_s;
    const double bench_before = self_cpu_seconds();
    fleet.close_all();
    ConnectStats st = fleet.connect_all(creds, 60, 0);
    nlohmann::json reasons = nlohmann::json::object();
    for (const auto& [k, v] : st.reasons) reasons[k] = v;
    const bool all_back = st.online == st.wanted;
    if (!all_back) {
      // Bring the stragglers back before the next round (refused nodes retry, as a node would).
      fleet.close_all();
      connect_or_throw(fleet, creds);
    }
    const double bench_s = self_cpu_seconds() - bench_before;
    pause(pause_s);
    const double cpu_s = read_proc_stats(gw.pid()).cpu_s - cpu_before;
    const double rate = st.all_s > 0 ? static_cast<double>(st.online) / st.all_s : 0;
    const double cpu_us = st.wanted ? cpu_s * 1e6 / static_cast<double>(st.wanted) : 0;
    out.rounds.push_back({{"listener", label},
                          {"online", st.online},
                          {"refused", st.refused},
                          {"firstS", st.first_s},
                          {"allS", st.all_s},
                          {"perSecond", rate},
                          {"gatewayCpuS", cpu_s},
                          {"benchCpuS", bench_s},
                          {"reasons", reasons}});
    note(label + " round " + std::to_string(r + 1) + ": " + std::to_string(st.online) + "/" +
         std::to_string(st.wanted) + " back in " + std::to_string(st.all_s) + " s (" +
         std::to_string(static_cast<long>(rate)) + "/s), " + std::to_string(st.refused) +
         " refused, gateway CPU " + std::to_string(static_cast<long>(cpu_us)) + " µs each");
    out.worst_s = std::max(out.worst_s, st.all_s);
    out.refused += st.refused;
    out.missing += st.wanted - st.online;
    // A round with stragglers counts in worst_s, but not in the per-connection figures: its CPU
    // holds a second connect of the whole fleet.
    if (all_back) {
      rates.push_back(rate);
      cpus.push_back(cpu_us);
      bench_cpus.push_back(bench_s * 1e6 / static_cast<double>(st.wanted));
    }
  }
  out.median_rate = median(rates);
  out.cpu_us_per_conn = median(cpus);
  out.bench_us_per_conn = median(bench_cpus);
  return out;
}

}  // namespace

int run_reconnect(const CommonOptions& c, const ReconnectOptions& o) {
  raise_nofile(2 * o.nodes + 4096);
  IoPool pool(c.threads);
  Report report("reconnect");
  nlohmann::json setup = setup_facts(c);
  setup["nodes"] = o.nodes;
  setup["rounds"] = o.rounds;
  setup["tls"] = o.tls;
  report.set("setup", setup);

  GatewayOptions gopts = c.gateway;
  gopts.tls_listeners = o.tls;
  GatewayRunner gw(gopts);
  gw.start();
  auto creds = ensure_bridge_creds(gw, pool, o.nodes);
  BridgeFleet fleet(pool, gw.bridge_port());
  connect_or_throw(fleet, creds);
  report.add_process("gateway", "before", read_proc_stats(gw.pid()));
  const Rounds plain = run_rounds(fleet, creds, gw, o.rounds, c.warmup_s, "plain");
  fleet.close_all();
  nlohmann::json rounds = plain.rounds;
  Rounds tls;
  if (o.tls) {
    // The same nodes, now over TLS (pinned to the gateway's certificate), the same rounds.
    BridgeFleet tls_fleet(pool, gw.bridge_tls_port(), TlsClient::pinning(gw.tls_cert_file()));
    connect_or_throw(tls_fleet, creds);
    pause(c.warmup_s);
    tls = run_rounds(tls_fleet, creds, gw, o.rounds, c.warmup_s, "tls");
    tls_fleet.close_all();
    for (const auto& r : tls.rounds) rounds.push_back(r);
  }
  report.set("rounds", rounds);
  report.add_process("gateway", "after", read_proc_stats(gw.pid()));
  report.add_figure("refused (all rounds)", static_cast<double>(plain.refused + tls.refused), "");
  report.add_figure("not back within 60 s (all rounds)",
                    static_cast<double>(plain.missing + tls.missing), "");
  const std::string n = std::to_string(o.nodes) + " nodes";
  if (o.tls) {
    report.add_ratio("TLS reconnect " + n + ", slowest round", tls.worst_s * 1e3, "ms",
                     "plain, slowest round", plain.worst_s * 1e3);
    report.add_ratio("TLS handshakes/s (median round)", tls.median_rate, "/s", "plain TCP",
                     plain.median_rate);
    report.add_ratio("TLS gateway CPU per reconnect", tls.cpu_us_per_conn, "µs", "plain TCP",
                     plain.cpu_us_per_conn);
    // The nodes' side of the handshakes shares the machine: a reader can tell who was busy.
    report.add_ratio("TLS bench CPU per reconnect", tls.bench_us_per_conn, "µs", "plain TCP",
                     plain.bench_us_per_conn);
  } else {
    report.add_figure("reconnects/s (median round)", plain.median_rate, "/s");
    report.add_figure("gateway CPU per reconnect (median round)", plain.cpu_us_per_conn, "µs");
    report.add_figure("bench CPU per reconnect (median round)", plain.bench_us_per_conn, "µs");
  }

  if (c.baselines) {
    NatsServer nats;
    nats.start(c.nats_bin, gw.state_dir() + "/baselines/nats-reconnect");
    NatsCrowd crowd(pool, nats.port());
    crowd.connect_all(o.nodes, 60, 512);
    double nats_worst = 0;
    for (int r = 0; r < o.rounds; ++r) {
      crowd.close_all();
      auto ns = crowd.connect_all(o.nodes, 60, 0);
      nats_worst = std::max(nats_worst, ns.all_s);
      pause(c.warmup_s);
    }
    crowd.close_all();
    nats.stop();
    report.add_ratio("reconnect " + n + ", slowest round", plain.worst_s * 1e3, "ms",
                     "nats clients, slowest round", nats_worst * 1e3);
  } else {
    report.add_figure("reconnect, slowest round", plain.worst_s * 1e3, "ms");
  }
  pool.stop();
  gw.stop();
  return finish(report, c, plain.missing + tls.missing > 0);
}

}  // namespace vespid::bench
