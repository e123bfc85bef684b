// `invoke`: operators call nodes.invoke on bridge nodes that answer at once; the same runs on
// the raw and NATS baselines. Also `baseline`: the baselines alone.
#include <filesystem>
#include <memory>

#include "baselines.hpp"
#include "channels.hpp"
#include "scenario_common.hpp"

namespace vespid::bench {

namespace {

void run_plan(Report& report, const std::vector<RunPlan>& plan, std::vector<Target>& targets) {
  for (const auto& p : plan) {
    for (auto& t : targets) run_target(report, p.name, t, p.spec, p.callers);
  }
}

}  // namespace

int run_invoke(const CommonOptions& c, const InvokeOptions& o) {
  raise_nofile(2 * o.nodes + 4096);
  IoPool pool(c.threads);
  Report report("invoke");
  nlohmann::json setup = setup_facts(c);
  setup["nodes"] = o.nodes;
  report.set("setup", setup);

  GatewayRunner gw(c.gateway);
  gw.start();
  auto creds = ensure_bridge_creds(gw, pool, o.nodes);
  BridgeFleet fleet(pool, gw.bridge_port());
  connect_or_throw(fleet, creds);
  auto names = std::make_shared<std::vector<std::string>>();
  for (const auto& n : creds) names->push_back(n.id);
  const std::string payload = make_payload(c.size);

  std::vector<Target> targets;
  targets.push_back(gateway_invoke_target(pool, gw.pid(), gw.socket_path(), names, payload));
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
  report.add_process("gateway", "after", read_proc_stats(gw.pid()));
  if (base) {
    report.add_process("nats-server", "after", read_proc_stats(base->nats_pid()));
    add_standard_ratios(report, "gateway", plan);
  }
  report.add_figure("invokes answered by the bench's nodes", static_cast<double>(fleet.invokes()),
                    "");
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
