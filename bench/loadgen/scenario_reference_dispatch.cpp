// `dispatch --reference vespid-v1`: the dispatch load of `dispatch` against this gateway and
// against Vespid v1's gateway (started by hand, with its PostgreSQL and Redis), back to back in
// one run: each run on the gateway, then the same run on the reference, and this gateway's
// figures next to the reference's. Node hosts on both sides answer execute at once; a round trip
// ends when the host gets execute_ack (the result is stored, in SQLite here, in Redis there).
#include <fstream>
#include <memory>
#include <stdexcept>

#include "dispatch_rig.hpp"
#include "http_lite.hpp"
#include "reference.hpp"
#include "scenario_common.hpp"

namespace vespid::bench {

namespace {

// The node-host tokens made for the reference (one per line, <orgId>.<secret>).
std::vector<WsCred> read_agent_tokens(const std::string& file, int n) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("--ref-agent-tokens: cannot read " + file);
  std::vector<WsCred> creds;
  std::string line;
  while (static_cast<int>(creds.size()) < n && std::getline(in, line)) {
    if (!line.empty()) creds.push_back({"", line});
  }
  if (static_cast<int>(creds.size()) < n) {
    throw std::runtime_error("--ref-agent-tokens: " + std::to_string(creds.size()) + " tokens in " +
                             file + ", " + std::to_string(n) + " hosts wanted");
  }
  return creds;
}

// One result read back the way a worker would (GET /internal/v1/results/:id).
nlohmann::json check_result(int port, const std::string& token, const std::string& id) {
  HttpResponse got =
      http_call(port, "GET", "/internal/v1/results/" + id, {"x-gateway-token: " + token}, {});
  return {{"requestId", id}, {"status", got.status}, {"body", got.body}};
}

}  // namespace

int run_reference_dispatch(const CommonOptions& c, const DispatchOptions& o,
                           const ReferenceOptions& r) {
  if (r.name != "vespid-v1") throw std::invalid_argument("dispatch --reference takes vespid-v1");
  if (r.port <= 0 || r.token.empty() || r.agent_tokens.empty() || r.pid <= 0) {
    throw std::invalid_argument(
        "--reference vespid-v1 needs --ref-port, --ref-token, --ref-agent-tokens and --ref-pid");
  }
  const auto ref_creds = read_agent_tokens(r.agent_tokens, o.hosts);
  const std::string ref_org = ref_creds.front().token.substr(0, ref_creds.front().token.find('.'));

  raise_nofile(4 * o.hosts + 4096);
  IoPool pool(c.threads);
  Report report("dispatch");
  nlohmann::json setup = setup_facts(c);
  setup["hosts"] = o.hosts;
  setup["reference"] = {{"name", r.name}, {"port", r.port}, {"pid", r.pid}, {"org", ref_org}};
  report.set("setup", setup);

  GatewayRunner gw(c.gateway);
  gw.start();
  auto creds = ensure_ws_creds(gw, o.hosts);
  const std::string payload = make_payload(c.size);
  WsFleet fleet(pool, gw.ws_port());
  DispatchRig rig(pool, gw, payload);
  fleet.on_ack([&rig](std::string_view id) { rig.ack(id); });
  connect_or_throw(fleet, creds);

  WsFleet ref_fleet(pool, r.port);
  DispatchRig ref_rig(pool, DispatchEndpoint{r.port, ref_org, r.token, r.pid}, payload);
  ref_fleet.on_ack([&ref_rig](std::string_view id) { ref_rig.ack(id); });
  connect_or_throw(ref_fleet, ref_creds);

  std::vector<Target> targets;
  targets.push_back(rig.target("gateway"));
  targets.push_back(ref_rig.target(r.name));
  targets.back().more_cpu = reference_more_cpu(r);

  report.add_process("gateway", "before", read_proc_stats(gw.pid()));
  report.add_process(r.name, "before", read_proc_stats(r.pid));
  const auto plan = standard_plan(c, o.callers, o.in_flight, o.rate);
  for (const auto& p : plan) {
    for (auto& t : targets) run_target(report, p.name, t, p.spec, p.callers);
  }
  report.add_process("gateway", "after", read_proc_stats(gw.pid()));
  report.add_process(r.name, "after", read_proc_stats(r.pid));
  add_reference_ratios(report, r.name, plan);

  const std::string some = rig.first()->run_id(0, (1ull << 16) | 0) + ":n:1";
  const std::string ref_some = ref_rig.first()->run_id(0, (1ull << 16) | 0) + ":n:1";
  const auto got = check_result(gw.api_port(), gw.internal_token(), some);
  const auto ref_got = check_result(r.port, r.token, ref_some);
  report.set("resultCheck", got);
  report.set("referenceResultCheck", ref_got);
  report.add_figure("executes answered by the bench's node hosts (gateway)",
                    static_cast<double>(fleet.executes()), "");
  report.add_figure("executes answered by the bench's node hosts (" + r.name + ")",
                    static_cast<double>(ref_fleet.executes()), "");
  for (const auto& [why, k] : ref_fleet.dropped_by_gateway()) {
    report.add_figure(r.name + " closed node hosts: " + why, static_cast<double>(k), "");
  }
  for (const auto& [why, k] : fleet.dropped_by_gateway()) {
    report.add_figure("gateway closed node hosts: " + why, static_cast<double>(k), "");
  }
  report.add_figure("bench client CPU (all runs)", self_cpu_seconds(), "s");
  rig.stop();
  ref_rig.stop();
  fleet.close_all();
  ref_fleet.close_all();
  pool.stop();
  gw.stop();
  const bool failed = report.load_failed() || got["status"] != 200 || ref_got["status"] != 200;
  return finish(report, c, failed);
}

}  // namespace vespid::bench
