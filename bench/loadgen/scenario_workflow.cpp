// `workflow`: what a one-node workflow run costs over the bare dispatch it makes (issue 16).
// The gateway, /ws node hosts that answer `execute` at once, and real vespid-worker processes
// from the same build. The same connector.action node goes to the hosts two ways, each timed
// until the caller knows the outcome:
//   dispatch  POST /internal/v1/dispatch-async, then GET /internal/v1/results/:id?waitMs=25000
//             (what vespid-worker does for the node);
//   workflow  POST /v1/orgs/:org/workflows/:wf/runs, then GET .../runs/:id/events?waitMs=25000
//             until run_succeeded (what `vespid workflow run --wait` does).
// Serially (latency) and with --callers at once (runs or dispatches completed per second). At
// the end every run the workflow has must have succeeded, and there must be as many as the
// gateway said it started.
#include <chrono>
#include <cmath>
#include <thread>

#include "scenario_common.hpp"
#include "worker_procs.hpp"
#include "workflow_calls.hpp"
#include "workflow_load.hpp"

namespace vespid::bench {

using nlohmann::json;

namespace {

// One connector.action node on a node host: the smallest run that makes a dispatch. The
// validator wants an auth.secretId of uuid form; the worker has no stored secrets and sends
// none (docs/worker.md), so any uuid does.
json one_node_spec(const json& input) {
  return {{"version", "v2"},
          {"trigger", {{"type", "trigger.manual"}}},
          {"nodes", json::array({{{"id", "say"},
                                  {"type", "connector.action"},
                                  {"config",
                                   {{"connectorId", "echo"},
                                    {"actionId", "say"},
                                    {"auth", {{"secretId", random_uuid()}}},
                                    {"input", input},
                                    {"execution", {{"mode", "node"}}}}}}})}};
}

// Waits for the runs still under way after the load (those the driver stopped waiting for)
// to end, then counts every run by status. Bounded, so a run that never ends is reported
// rather than waited for forever.
std::map<std::string, uint64_t> settle_and_count(const GatewayRunner& gw, const std::string& wf,
                                                 const std::string& token) {
  constexpr auto kSettle = std::chrono::seconds(60);
  const auto give_up = std::chrono::steady_clock::now() + kSettle;
  for (;;) {
    auto counts = count_runs(gw.api_port(), gw.org_id(), wf, token);
    const bool live = counts.count("queued") || counts.count("running");
    if (!live || std::chrono::steady_clock::now() >= give_up) return counts;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

double row(const Report& r, const std::string& run, const std::string& target,
           const std::string& field) {
  const json* j = r.load_row(run, target);
  return j ? (*j)[field].get<double>() : std::nan("");
}

// Where a run's time goes, by the gateway's own clock: the mean gap before each event.
void add_gaps(Report& report, const std::string& run, const CallTally& t) {
  if (t.runs == 0) return;
  report.add_figure("workflow " + run + ": events per run", static_cast<double>(t.events) / t.runs,
                    "");
  report.add_figure("workflow " + run + ": long-polls to follow a run",
                    static_cast<double>(t.polls) / t.runs, "");
  for (const auto& step : t.steps) {
    const auto& [sum, n] = t.gaps_ms.at(step);
    report.add_figure(run + ": " + step, sum / n, "ms");
  }
}

}  // namespace

int run_workflow(const CommonOptions& c, const WorkflowOptions& o) {
  raise_nofile(2 * o.hosts + 4096);
  IoPool pool(c.threads);
  Report report("workflow");
  json setup = setup_facts(c);
  setup["hosts"] = o.hosts;
  setup["workers"] = o.workers;
  setup["workerConcurrency"] = o.worker_concurrency;
  setup["callers"] = o.callers;
  report.set("setup", setup);

  GatewayRunner gw(c.gateway);
  gw.start();
  auto creds = ensure_ws_creds(gw, o.hosts);
  WsFleet fleet(pool, gw.ws_port());
  connect_or_throw(fleet, creds);
  WorkerProcs workers(gw, {o.worker_bin, o.workers, o.worker_concurrency});
  workers.start();

  const std::string token = admin_token(gw, "bench-workflows");
  const json input = {{"text", make_payload(c.size)}};
  const std::string wf = create_published_workflow(gw.api_port(), gw.org_id(), token,
                                                   "bench one node", one_node_spec(input));
  WorkflowLoad load(pool, gw, wf, token, input, [&workers] { return workers.cpu_seconds(); });

  // One run end to end before anything is measured: the chain works (a worker claims, the
  // hosts answer). Given up only if every worker has exited.
  {
    RunStarter first(gw.api_port(), gw.org_id(), wf, token);
    const FollowedRun r = first.run_once([&] { return workers.exited() == o.workers; });
    if (r.status != "succeeded") {
      throw std::runtime_error("the first workflow run did not succeed (" + r.status + "); see " +
                               workers.log_path(0) + " and " + gw.state_dir() + "/gateway.log");
    }
  }
  const uint64_t setup_runs = 1;

  report.add_process("gateway", "before", read_proc_stats(gw.pid()));
  // Closed loop, one request in flight per caller: serial is one caller, load is --callers.
  const std::vector<RunPlan> plan = {{"serial", {1, 0, c.warmup_s, c.duration_s}, 1},
                                     {"load", {1, 0, c.warmup_s, c.duration_s}, o.callers}};
  Target dispatch = load.dispatch_target();
  Target workflow = load.workflow_target();
  for (const auto& p : plan) {
    for (Target* t : {&dispatch, &workflow}) {
      const double workers_before = workers.cpu_seconds();
      const LoadResult r = run_target(report, p.name, *t, p.spec, p.callers);
      // The workers' share of the CPU column (which is the gateway's and theirs), counted the
      // same way: over the whole load, scaled to the measured window.
      if (r.completed_in_window > 0) {
        const double used = (workers.cpu_seconds() - workers_before) * p.spec.duration_s /
                            (p.spec.warmup_s + p.spec.duration_s);
        report.add_figure(t->name + " " + p.name + ": workers' CPU per request",
                          used * 1e6 / static_cast<double>(r.completed_in_window), "µs");
      }
      const Histogram h = load.last_tally(t->name).post;
      report.add_figure(t->name + " " + p.name + ": POST answered p50", h.percentile(50) / 1e3,
                        "µs");
    }
    add_gaps(report, p.name, load.last_tally("workflow"));
  }
  report.add_process("gateway", "after", read_proc_stats(gw.pid()));
  add_standard_ratios(report, "workflow", plan, {"dispatch"});
  for (const auto& p : plan) {
    for (const char* q : {"p50", "p99"}) {
      const std::string field = std::string(q) + "Us";
      report.add_figure(
          "workflow " + p.name + ": added " + q + " over a dispatch",
          row(report, p.name, "workflow", field) - row(report, p.name, "dispatch", field), "µs");
    }
  }
  report.add_figure("workers' CPU (all runs)", workers.cpu_seconds(), "s");
  report.add_figure("executes answered by the bench's node hosts",
                    static_cast<double>(fleet.executes()), "");
  report.add_figure("bench client CPU (all runs)", self_cpu_seconds(), "s");

  // Every run the gateway started, the first one included, must have succeeded.
  const auto counts = settle_and_count(gw, wf, token);
  uint64_t total = 0;
  for (const auto& [status, n] : counts) total += n;
  const uint64_t started = load.runs_started() + setup_runs;
  const uint64_t succeeded = counts.count("succeeded") ? counts.at("succeeded") : 0;
  const bool runs_ok = total == started && succeeded == total;
  report.set("runCheck", {{"started", started}, {"byStatus", counts}, {"ok", runs_ok}});
  if (!runs_ok) {
    note("run check failed: " + std::to_string(started) + " runs started, " + json(counts).dump() +
         " stored");
  }

  const int workers_bad = workers.stop();
  if (workers_bad > 0) note(std::to_string(workers_bad) + " workers did not exit 0");
  fleet.close_all();
  pool.stop();
  gw.stop();
  return finish(report, c, report.load_failed() || !runs_ok || workers_bad > 0);
}

}  // namespace vespid::bench
