// `cluster-invoke`: nodes.invoke across gateway instances. Two gateways, a and b, share one
// PostgreSQL (storage `postgres`) and one nats-server (bus `nats`), both started by the bench on
// loopback. The bridge nodes connect to a; the same load then runs
//   gw-local: callers on a's admin socket (the invoke stays on one instance, same config), and
//   gw-cross: callers on b's admin socket (b -> nats -> a -> node -> a -> nats -> b),
// next to the raw and NATS request/reply baselines, so the cost of the extra instance reads as
// a ratio to the same invoke on one instance and to NATS doing a request/reply alone.
#include <chrono>
#include <cmath>
#include <memory>
#include <set>
#include <thread>

#include "baselines.hpp"
#include "operator_client.hpp"
#include "pg_server.hpp"
#include "scenario_common.hpp"

namespace vespid::bench {

namespace {

using nlohmann::json;

// Polls until `gw` counts `others` other live instances (their heartbeats have arrived).
void wait_for_peers(GatewayRunner& gw, int others) {
  for (int i = 0; i < 600; ++i) {
    json st = cli::OperatorClient::connect(gw.socket_path()).call("status");
    if (st.contains("cluster") && st["cluster"].value("otherInstances", 0) >= others) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("gateway at " + gw.state_dir() + " never saw the other instance");
}

// Polls until `gw` lists every one of `ids` as online: presence from the instance holding them
// has reached it, so b can route to a's nodes before the load starts.
void wait_until_online(GatewayRunner& gw, const std::vector<std::string>& ids) {
  const std::set<std::string> want(ids.begin(), ids.end());
  std::size_t online = 0;
  for (int i = 0; i < 600; ++i) {
    json list =
        cli::OperatorClient::connect(gw.socket_path()).call("nodes.list", {{"org", gw.org_id()}});
    online = 0;
    for (const auto& n : list["nodes"]) {
      if (n.value("status", "") == "online" && want.count(n.value("nodeId", ""))) ++online;
    }
    if (online == want.size()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("instance b sees only " + std::to_string(online) + " of " +
                           std::to_string(want.size()) + " nodes online");
}

}  // namespace

int run_cluster_invoke(const CommonOptions& c, const ClusterInvokeOptions& o) {
  raise_nofile(2 * o.nodes + 4096);
  IoPool pool(c.threads);
  Report report("cluster-invoke");
  json setup = setup_facts(c);
  setup["nodes"] = o.nodes;
  setup["heartbeatMs"] = o.heartbeat_ms;
  setup["leaseMs"] = o.lease_ms;
  report.set("setup", setup);

  RunDir dir(c, "cluster");
  note("starting PostgreSQL and nats-server in " + dir.path());
  PgServer pg;
  pg.start();
  NatsServer nats;
  nats.start(c.nats_bin, dir.path() + "/nats");
  const std::string nats_url = "nats://127.0.0.1:" + std::to_string(nats.port());

  auto options_for = [&](const std::string& id) {
    GatewayOptions g = c.gateway;
    g.state_dir = dir.path() + "/" + id;
    use_postgres(g, pg.conninfo(), "bench");
    g.bus = {{"plugin", "nats"}, {"config", {{"servers", json::array({nats_url})}}}};
    g.config_patch = {
        {"cluster",
         {{"instance_id", id}, {"heartbeat_ms", o.heartbeat_ms}, {"lease_ms", o.lease_ms}}}};
    return g;
  };
  // a first: it creates the schema and org "bench", which b then finds in the shared store.
  GatewayRunner a(options_for("a"));
  a.start();
  GatewayRunner b(options_for("b"));
  b.start();
  wait_for_peers(a, 1);
  wait_for_peers(b, 1);

  auto creds = ensure_bridge_creds(a, pool, o.nodes);
  BridgeFleet fleet(pool, a.bridge_port());
  connect_or_throw(fleet, creds);
  auto names = std::make_shared<std::vector<std::string>>();
  for (const auto& n : creds) names->push_back(n.id);
  wait_until_online(b, *names);
  const std::string payload = make_payload(c.size);

  std::vector<Target> targets;
  // CPU counted: a alone for the local invoke; a, b and the cluster's nats-server for the one
  // across instances (all three are in its path).
  targets.push_back(
      gateway_invoke_target(pool, a.pid(), a.socket_path(), names, payload, "gw-local"));
  Target cross = gateway_invoke_target(pool, b.pid(), b.socket_path(), names, payload, "gw-cross");
  cross.more_cpu = [pa = a.pid(), pn = nats.pid()] {
    const ProcStats sa = read_proc_stats(pa), sn = read_proc_stats(pn);
    return sa.valid && sn.valid ? sa.cpu_s + sn.cpu_s : std::nan("");
  };
  targets.push_back(cross);
  std::unique_ptr<Baselines> base;
  if (c.baselines) {
    // The baselines' own nats-server, not the cluster's: the gateways' heartbeats stay off it.
    base = std::make_unique<Baselines>(pool, c, dir.path() + "/baselines", std::min(o.nodes, 1000));
    base->start();
    for (auto& t : base->targets()) targets.push_back(t);
  }

  report.add_process("gateway a", "before", read_proc_stats(a.pid()));
  report.add_process("gateway b", "before", read_proc_stats(b.pid()));
  const auto plan = standard_plan(c, o.callers, o.in_flight, o.rate);
  for (const auto& p : plan) {
    for (auto& t : targets) run_target(report, p.name, t, p.spec, p.callers);
  }
  report.add_process("gateway a", "after", read_proc_stats(a.pid()));
  report.add_process("gateway b", "after", read_proc_stats(b.pid()));
  report.add_process("nats (bus)", "after", read_proc_stats(nats.pid()));
  report.add_figure("postgres CPU, every backend (all runs)", pg.cpu_seconds(), "s");
  std::vector<std::string> cross_bases = {"gw-local"};
  cross_bases.insert(cross_bases.end(), kStandardBaselines.begin(), kStandardBaselines.end());
  add_standard_ratios(report, "gw-cross", plan, cross_bases);
  add_standard_ratios(report, "gw-local", plan);
  report.add_figure("invokes answered by the bench's nodes", static_cast<double>(fleet.invokes()),
                    "");
  report.add_figure("bench client CPU (all runs)", self_cpu_seconds(), "s");
  fleet.close_all();
  if (base) base->stop();
  pool.stop();
  b.stop();
  a.stop();
  nats.stop();
  pg.stop();
  return finish(report, c, report.load_failed());
}

}  // namespace vespid::bench
