// `reconnect`: N connected nodes drop at once (their sockets close, as when a network blips)
// and reconnect at once; the time until all are back and how many were refused, next to N
// NATS clients doing the same.
#include <chrono>
#include <thread>

#include "nats.hpp"
#include "scenario_common.hpp"

namespace vespid::bench {

int run_reconnect(const CommonOptions& c, const ReconnectOptions& o) {
  raise_nofile(2 * o.nodes + 4096);
  IoPool pool(c.threads);
  Report report("reconnect");
  nlohmann::json setup = setup_facts(c);
  setup["nodes"] = o.nodes;
  setup["rounds"] = o.rounds;
  report.set("setup", setup);

  GatewayRunner gw(c.gateway);
  gw.start();
  auto creds = ensure_bridge_creds(gw, pool, o.nodes);
  BridgeFleet fleet(pool, gw.bridge_port());
  connect_or_throw(fleet, creds);
  report.add_process("gateway", "before", read_proc_stats(gw.pid()));
  double worst = 0;
  std::size_t refused = 0, missing = 0;
  nlohmann::json rounds = nlohmann::json::array();
  for (int r = 0; r < o.rounds; ++r) {
    fleet.close_all();
    ConnectStats st = fleet.connect_all(creds, 60, 0);
    nlohmann::json reasons = nlohmann::json::object();
    for (const auto& [k, v] : st.reasons) reasons[k] = v;
    rounds.push_back({{"online", st.online},
                      {"refused", st.refused},
                      {"firstS", st.first_s},
                      {"allS", st.all_s},
                      {"reasons", reasons}});
    note("round " + std::to_string(r + 1) + ": " + std::to_string(st.online) + "/" +
         std::to_string(st.wanted) + " back in " + std::to_string(st.all_s) + " s, " +
         std::to_string(st.refused) + " refused");
    worst = std::max(worst, st.all_s);
    refused += st.refused;
    missing += st.wanted - st.online;
    if (st.online != st.wanted) {
      // Bring the stragglers back before the next round (refused nodes retry, as a node would).
      fleet.close_all();
      connect_or_throw(fleet, creds);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(c.warmup_s * 1000)));
  }
  report.set("rounds", rounds);
  report.add_process("gateway", "after", read_proc_stats(gw.pid()));
  report.add_figure("refused (all rounds)", static_cast<double>(refused), "");
  report.add_figure("not back within 60 s (all rounds)", static_cast<double>(missing), "");

  fleet.close_all();  // one crowd at a time in the bench
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
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(c.warmup_s * 1000)));
    }
    crowd.close_all();
    nats.stop();
    report.add_ratio("reconnect " + std::to_string(o.nodes) + " nodes, slowest round", worst * 1e3,
                     "ms", "nats clients, slowest round", nats_worst * 1e3);
  } else {
    report.add_figure("reconnect, slowest round", worst * 1e3, "ms");
  }
  fleet.close_all();
  pool.stop();
  gw.stop();
  return finish(report, c, missing > 0);
}

}  // namespace vespid::bench
