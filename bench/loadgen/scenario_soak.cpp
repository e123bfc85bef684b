// `soak`: invokes for a long time, with the connections churning, to show that nothing in the
// gateway grows without bound. The gateway is warmed up first (so allocator arenas and tables
// reach their working size), its resident memory is read while it is idle, then the soak runs
// in rounds: each round opens fresh operator connections, drives paced invokes over them,
// closes them, and drops and reconnects every node. After the last round, and a pause, the
// memory is read again; what is left above the level before is what the soak leaked (or what
// the allocator kept).
#include <chrono>
#include <cmath>
#include <thread>

#include "baselines.hpp"
#include "channels.hpp"
#include "scenario_common.hpp"

namespace vespid::bench {

namespace {

uint64_t settle_and_read_rss(pid_t pid, double pause_s) {
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(pause_s * 1000)));
  return read_proc_stats(pid).rss_kib;
}

}  // namespace

int run_soak(const CommonOptions& c, const SoakOptions& o) {
  raise_nofile(2 * o.nodes + 4096);
  IoPool pool(c.threads);
  Report report("soak");
  nlohmann::json setup = setup_facts(c);
  setup["nodes"] = o.nodes;
  setup["callers"] = o.callers;
  setup["inFlight"] = o.in_flight;
  setup["rate"] = o.rate;
  setup["roundS"] = o.round_s;
  report.set("setup", setup);

  GatewayRunner gw(c.gateway);
  gw.start();
  auto creds = ensure_bridge_creds(gw, pool, o.nodes);
  BridgeFleet fleet(pool, gw.bridge_port());
  connect_or_throw(fleet, creds);
  auto names = std::make_shared<std::vector<std::string>>();
  for (const auto& n : creds) names->push_back(n.id);
  const std::string payload = make_payload(c.size);

  Target target = gateway_invoke_target(pool, gw.pid(), gw.socket_path(), names, payload);

  const LoadSpec round{o.in_flight, o.rate, 0, o.round_s};
  report.add_process("gateway", "started", read_proc_stats(gw.pid()));
  if (c.warmup_s > 0) {
    note("warming up for " + std::to_string(c.warmup_s) + " s");
    run_target(report, "warmup", target, LoadSpec{o.in_flight, o.rate, 0, c.warmup_s}, o.callers);
  }
  const uint64_t before = settle_and_read_rss(gw.pid(), o.settle_s);
  report.add_process("gateway", "before", read_proc_stats(gw.pid()));

  const int rounds = std::max(1, static_cast<int>(std::ceil(c.duration_s / o.round_s)));
  nlohmann::json series = nlohmann::json::array();
  uint64_t answered = 0, errors = 0, lost = 0;
  uint64_t peak = before;
  for (int r = 0; r < rounds; ++r) {
    LoadResult res = run_target(report, "round " + std::to_string(r + 1), target, round, o.callers);
    answered += res.ok;
    errors += res.errors;
    lost += res.lost;
    const ProcStats loaded = read_proc_stats(gw.pid());
    peak = std::max(peak, loaded.rss_kib);
    // Every node drops and comes back: per-connection state must be freed, not accumulated.
    fleet.close_all();
    connect_or_throw(fleet, creds);
    series.push_back({{"round", r + 1},
                      {"rssKiB", loaded.rss_kib},
                      {"throughput", res.throughput()},
                      {"p99Us", res.latency.percentile(99) / 1000.0},
                      {"errors", res.errors},
                      {"lost", res.lost}});
    note("round " + std::to_string(r + 1) + "/" + std::to_string(rounds) + ": RSS " +
         std::to_string(loaded.rss_kib) + " KiB, " + std::to_string(res.ok) + " invokes");
  }
  const uint64_t after = settle_and_read_rss(gw.pid(), o.settle_s);
  report.add_process("gateway", "after", read_proc_stats(gw.pid()));
  report.set("rounds", series);
  report.add_figure("invokes answered ok (soak)", static_cast<double>(answered), "");
  report.add_figure("errors (soak)", static_cast<double>(errors), "");
  report.add_figure("lost (soak)", static_cast<double>(lost), "");
  report.add_figure("node reconnects (soak)", static_cast<double>(rounds) * o.nodes, "");
  report.add_figure("gateway RSS idle before the soak", static_cast<double>(before), "KiB");
  report.add_figure("gateway RSS peak during the soak", static_cast<double>(peak), "KiB");
  report.add_figure("gateway RSS idle after the soak", static_cast<double>(after), "KiB");
  report.add_figure("gateway RSS after - before", static_cast<double>(after) - before, "KiB");

  fleet.close_all();
  pool.stop();
  gw.stop();
  return finish(report, c, errors + lost > 0);
}

}  // namespace vespid::bench
