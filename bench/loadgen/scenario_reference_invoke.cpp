// `invoke --reference clawdbot`: the invoke load of `invoke` against this gateway and against
// Clawdbot's gateway with its bridge server (started by hand), back to back in one run. The same
// number of bridge nodes on each, answering at once; callers call nodes.invoke on this
// gateway's admin socket and node.invoke on the reference's gateway WebSocket, the way each is
// called, with the same payload.
#include <memory>
#include <stdexcept>

#include "reference_clawdbot.hpp"
#include "scenario_common.hpp"

namespace vespid::bench {

int run_reference_invoke(const CommonOptions& c, const InvokeOptions& o,
                         const ReferenceOptions& r) {
  if (r.name != "clawdbot") throw std::invalid_argument("invoke --reference takes clawdbot");
  if (r.port <= 0 || r.bridge_port <= 0 || r.token.empty() || r.pid <= 0) {
    throw std::invalid_argument(
        "--reference clawdbot needs --ref-port, --ref-bridge-port, --ref-token and --ref-pid");
  }
  if (o.tls) throw std::invalid_argument("--reference and --tls do not go together");
  raise_nofile(4 * o.nodes + 4096);
  IoPool pool(c.threads);
  Report report("invoke");
  nlohmann::json setup = setup_facts(c);
  setup["nodes"] = o.nodes;
  setup["reference"] = {
      {"name", r.name}, {"port", r.port}, {"bridgePort", r.bridge_port}, {"pid", r.pid}};
  report.set("setup", setup);

  GatewayRunner gw(c.gateway);
  gw.start();
  auto creds = ensure_bridge_creds(gw, pool, o.nodes);
  BridgeFleet fleet(pool, gw.bridge_port());
  connect_or_throw(fleet, creds);
  auto names = std::make_shared<std::vector<std::string>>();
  for (const auto& n : creds) names->push_back(n.id);

  auto ref_creds = clawdbot_bridge_creds(pool, r, o.nodes);
  BridgeFleet ref_fleet(pool, r.bridge_port);
  connect_or_throw(ref_fleet, ref_creds);
  auto ref_names = std::make_shared<std::vector<std::string>>();
  for (const auto& n : ref_creds) ref_names->push_back(n.id);

  const std::string payload = make_payload(c.size);
  std::vector<Target> targets;
  targets.push_back(gateway_invoke_target(pool, gw.pid(), gw.socket_path(), names, payload));
  targets.push_back(clawdbot_invoke_target(pool, r, ref_names, payload));

  report.add_process("gateway", "before", read_proc_stats(gw.pid()));
  report.add_process(r.name, "before", read_proc_stats(r.pid));
  const auto plan = standard_plan(c, o.callers, o.in_flight, o.rate);
  for (const auto& p : plan) {
    for (auto& t : targets) run_target(report, p.name, t, p.spec, p.callers);
  }
  report.add_process("gateway", "after", read_proc_stats(gw.pid()));
  report.add_process(r.name, "after", read_proc_stats(r.pid));
  add_reference_ratios(report, r.name, plan);
  report.add_figure("invokes answered by the bench's nodes (gateway)",
                    static_cast<double>(fleet.invokes()), "");
  report.add_figure("invokes answered by the bench's nodes (" + r.name + ")",
                    static_cast<double>(ref_fleet.invokes()), "");
  report.add_figure("nodes still online at the end (gateway)", static_cast<double>(fleet.online()),
                    "");
  report.add_figure("nodes still online at the end (" + r.name + ")",
                    static_cast<double>(ref_fleet.online()), "");
  report.add_figure("bench client CPU (all runs)", self_cpu_seconds(), "s");
  fleet.close_all();
  ref_fleet.close_all();
  pool.stop();
  gw.stop();
  return finish(report, c, report.load_failed());
}

}  // namespace vespid::bench
