// `idle`: N nodes connect and stay; how much resident memory the gateway spends per node, next
// to what nats-server spends per idle client with one subscription.
#include <chrono>
#include <filesystem>
#include <thread>

#include "nats.hpp"
#include "scenario_common.hpp"

namespace vespid::bench {

namespace {
void settle(double s) {
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(s * 1000)));
}
}  // namespace

int run_idle(const CommonOptions& c, const IdleOptions& o) {
  raise_nofile(2 * o.nodes + 4096);
  IoPool pool(c.threads);
  Report report("idle");
  nlohmann::json setup = setup_facts(c);
  setup["nodes"] = o.nodes;
  setup["transport"] = o.transport;
  report.set("setup", setup);
  const bool ws = o.transport == "ws";

  GatewayRunner gw(c.gateway);
  gw.start();
  std::vector<NodeCred> bridge_creds;
  std::vector<WsCred> ws_creds;
  if (ws) {
    ws_creds = ensure_ws_creds(gw, o.nodes);
  } else {
    bridge_creds = ensure_bridge_creds(gw, pool, o.nodes);
  }
  // A fresh gateway, so the memory that pairing took is not in the figures.
  gw.stop();
  gw.start();
  settle(c.warmup_s);
  const ProcStats before = read_proc_stats(gw.pid());
  report.add_process("gateway", "before", before);

  BridgeFleet bridge(pool, gw.bridge_port());
  WsFleet hosts(pool, gw.ws_port());
  ConnectStats st =
      ws ? hosts.connect_all(ws_creds, 300, 512) : bridge.connect_all(bridge_creds, 300, 512);
  report.add_figure("nodes online", static_cast<double>(st.online), "");
  report.add_figure("nodes refused", static_cast<double>(st.refused), "");
  report.add_figure("connect all (512 connects in flight)", st.all_s, "s");
  nlohmann::json reasons = nlohmann::json::object();
  for (const auto& [k, v] : st.reasons) reasons[k] = v;
  report.set("refusedReasons", reasons);
  report.add_process("gateway", "connected", read_proc_stats(gw.pid()));
  settle(c.duration_s);  // held: pings and pongs flow if the hold is long enough
  const ProcStats held = read_proc_stats(gw.pid());
  report.add_process("gateway", "held", held);
  const double per_node =
      st.online ? (static_cast<double>(held.rss_kib) - before.rss_kib) * 1024.0 / st.online : 0;

  // The nodes go before the baseline's clients come, so the bench holds one crowd at a time.
  bridge.close_all();
  hosts.close_all();
  double nats_per_conn = 0;
  if (c.baselines) {
    NatsServer nats;
    nats.start(c.nats_bin, gw.state_dir() + "/baselines/nats-idle");
    settle(c.warmup_s);
    const ProcStats nb = read_proc_stats(nats.pid());
    report.add_process("nats-server", "before", nb);
    NatsCrowd crowd(pool, nats.port());
    auto ns = crowd.connect_all(o.nodes, 300, 512);
    settle(c.duration_s);
    const ProcStats na = read_proc_stats(nats.pid());
    report.add_process("nats-server", "held", na);
    nats_per_conn =
        ns.ready ? (static_cast<double>(na.rss_kib) - nb.rss_kib) * 1024.0 / ns.ready : 0;
    crowd.close_all();
    nats.stop();
  }
  if (c.baselines) {
    report.add_ratio("gateway RSS per idle " + o.transport + " node", per_node, "B",
                     "nats-server per idle client", nats_per_conn);
  } else {
    report.add_figure("gateway RSS per idle " + o.transport + " node", per_node, "B");
  }
  bridge.close_all();
  hosts.close_all();
  pool.stop();
  gw.stop();
  return finish(report, c, st.online != st.wanted);
}

}  // namespace vespid::bench
