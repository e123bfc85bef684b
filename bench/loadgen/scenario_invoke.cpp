// `invoke`: operators call nodes.invoke on bridge nodes that answer at once; the same runs on
// the raw and NATS baselines. With --tls, the same runs again with the nodes reconnected over
// TLS to a TLS bridge listener of the same gateway (target gateway-tls), each figure next to the
// plain one. Also `baseline`: the baselines alone.
#include <filesystem>
#include <memory>

#include "baselines.hpp"
#include "channels.hpp"
#include "scenario_common.hpp"
#include "tls_client.hpp"

namespace vespid::bench {

namespace {

void run_plan(Report& report, const std::vector<RunPlan>& plan, std::vector<Target>& targets) {
  for (const auto& p : plan) {
    for (auto& t : targets) run_target(report, p.name, t, p.spec, p.callers);
  }
}

// gateway-tls against gateway, run by run: throughput, latency and the gateway's CPU per invoke.
void add_tls_ratios(Report& report, const std::vector<RunPlan>& plan) {
  add_standard_ratios(report, "gateway-tls", plan, {"gateway"});
  for (const auto& p : plan) {
    const auto* t = report.load_row(p.name, "gateway-tls");
    const auto* g = report.load_row(p.name, "gateway");
    if (!t || !g || !t->contains("serverCpuUsPerReq") || !g->contains("serverCpuUsPerReq")) {
      continue;
    }
    report.add_ratio("gateway-tls " + p.name + " gateway CPU/invoke", (*t)["serverCpuUsPerReq"],
                     "µs", "gateway", (*g)["serverCpuUsPerReq"]);
  }
}

}  // namespace

int run_invoke(const CommonOptions& c, const InvokeOptions& o) {
  raise_nofile(2 * o.nodes + 4096);
  IoPool pool(c.threads);
  Report report("invoke");
  nlohmann::json setup = setup_facts(c);
  setup["nodes"] = o.nodes;
  setup["tls"] = o.tls;
  report.set("setup", setup);

  GatewayOptions gopts = c.gateway;
  gopts.tls_listeners = o.tls;
  GatewayRunner gw(gopts);
  gw.start();
  auto creds = ensure_bridge_creds(gw, pool, o.nodes);
  BridgeFleet fleet(pool, gw.bridge_port());
  connect_or_throw(fleet, creds);
  auto names = std::make_shared<std::vector<std::string>>();
  for (const auto& n : creds) names->push_back(n.id);
  const std::string payload = make_payload(c.size);

  std::vector<Target> targets;
  targets.push_back(gateway_invoke_target(pool, gw.pid(), gw.socket_path(), names, payload));
  const auto serial_busy = [port = gw.api_port()] { return read_serial_busy(port); };
  targets.back().serial_busy = serial_busy;
  std::unique_ptr<Baselines> base;
  if (c.baselines) {
    // NATS with one responder per node as well, up to 1,000 (each is a connection of the bench).
    base = std::make_unique<Baselines>(pool, c, gw.state_dir() + "/baselines",
                                       std::min(o.nodes, 1000));
    base->start();
    for (auto& t : base->targets()) targets.push_back(t);
  }

  report.add_process("gateway", "before", read_proc_stats(gw.pid()));
  const auto plan = standard_plan(c, o.callers, o.in_flight, o.rate);
  run_plan(report, plan, targets);
  uint64_t invokes = fleet.invokes();
  if (o.tls) {
    // The same nodes, now over TLS (pinned to the gateway's certificate), the same runs.
    fleet.close_all();
    BridgeFleet tls_fleet(pool, gw.bridge_tls_port(), TlsClient::pinning(gw.tls_cert_file()));
    connect_or_throw(tls_fleet, creds);
    std::vector<Target> tls_targets;
    tls_targets.push_back(
        gateway_invoke_target(pool, gw.pid(), gw.socket_path(), names, payload, "gateway-tls"));
    tls_targets.back().serial_busy = serial_busy;
    run_plan(report, plan, tls_targets);
    invokes += tls_fleet.invokes();
    tls_fleet.close_all();
  }
  report.add_process("gateway", "after", read_proc_stats(gw.pid()));
  if (base) {
    report.add_process("nats-server", "after", read_proc_stats(base->nats_pid()));
    add_standard_ratios(report, "gateway", plan);
  }
  if (o.tls) add_tls_ratios(report, plan);
  report.add_figure("invokes answered by the bench's nodes", static_cast<double>(invokes), "");
  report.add_figure("bench client CPU (all runs)", self_cpu_seconds(), "s");
  fleet.close_all();
  if (base) base->stop();
  pool.stop();
  gw.stop();
  const bool failed = report.load_failed();
  return finish(report, c, failed);
}

int run_baselines_only(const CommonOptions& c, const InvokeOptions& o) {
  IoPool pool(c.threads);
  Report report("baseline");
  report.set("setup", setup_facts(c));
  char tmpl[] = "/tmp/vespid-bench-base-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl) ? tmpl : "/tmp";
  Baselines base(pool, c, dir);
  base.start();
  auto targets = base.targets();
  run_plan(report, standard_plan(c, o.callers, o.in_flight, o.rate), targets);
  base.stop();
  pool.stop();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return finish(report, c, report.load_failed());
}

}  // namespace vespid::bench
