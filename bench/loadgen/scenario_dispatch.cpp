// `dispatch`: a worker's POST /internal/v1/dispatch-async to /ws node hosts that answer
// execute_result at once; the round trip ends at execute_ack (the result is durable).
#include <memory>

#include "baselines.hpp"
#include "dispatch_rig.hpp"
#include "http_lite.hpp"
#include "scenario_common.hpp"

namespace vespid::bench {

int run_dispatch(const CommonOptions& c, const DispatchOptions& o) {
  raise_nofile(2 * o.hosts + 4096);
  IoPool pool(c.threads);
  Report report("dispatch");
  nlohmann::json setup = setup_facts(c);
  setup["hosts"] = o.hosts;
  report.set("setup", setup);

  GatewayRunner gw(c.gateway);
  gw.start();
  auto creds = ensure_ws_creds(gw, o.hosts);
  WsFleet fleet(pool, gw.ws_port());
  DispatchRig rig(pool, gw, make_payload(c.size));
  fleet.on_ack([&rig](std::string_view id) { rig.ack(id); });
  connect_or_throw(fleet, creds);

  std::vector<Target> targets;
  targets.push_back(rig.target("gateway"));
  std::unique_ptr<Baselines> base;
  if (c.baselines) {
    base = std::make_unique<Baselines>(pool, c, gw.state_dir() + "/baselines");
    base->start();
    for (auto& t : base->targets()) targets.push_back(t);
  }

  report.add_process("gateway", "before", read_proc_stats(gw.pid()));
  const auto plan = standard_plan(c, o.callers, o.in_flight, o.rate);
  for (const auto& p : plan) {
    for (auto& t : targets) {
      run_target(report, p.name, t, p.spec, p.callers);
      if (t.name == "gateway") {
        // The POST alone (201, the dispatch record is durable and execute written).
        Histogram h = rig.current()->post_latency();
        report.add_figure("dispatch " + p.name + ": POST answered p50", h.percentile(50) / 1e3,
                          "µs");
        report.add_figure("dispatch " + p.name + ": POST answered p99", h.percentile(99) / 1e3,
                          "µs");
      }
    }
  }
  report.add_process("gateway", "after", read_proc_stats(gw.pid()));
  if (base) add_standard_ratios(report, "gateway", plan);

  // One result read back the way a worker would, to show the acked results are there.
  const std::string some = rig.first()->run_id(0, (1ull << 16) | 0) + ":n:1";
  HttpResponse got = http_call(gw.api_port(), "GET", "/internal/v1/results/" + some,
                               {"x-gateway-token: " + gw.internal_token()}, {});
  report.set("resultCheck", {{"requestId", some}, {"status", got.status}, {"body", got.body}});
  report.add_figure("executes answered by the bench's node hosts",
                    static_cast<double>(fleet.executes()), "");
  report.add_figure("bench client CPU (all runs)", self_cpu_seconds(), "s");
  rig.stop();
  fleet.close_all();
  if (base) base->stop();
  pool.stop();
  gw.stop();
  const bool failed = report.load_failed() || got.status != 200;
  return finish(report, c, failed);
}

}  // namespace vespid::bench
