// `storage-compare`: the same dispatch and session-turn load on a gateway whose store is SQLite
// (the single-machine default) and on one whose store is PostgreSQL (what instances of one
// deployment share; started by the bench on loopback), one after the other in the same run.
// Each backend gets a fresh gateway and state directory, the same node hosts and the same runs:
//   disp-serial / disp-load: POST /internal/v1/dispatch-async until the host's execute_ack
//     (the result durable), as `dispatch` does;
//   turn-serial / turn-load: session_send until the turn's agent_final reaches the client
//     (every event of the turn stored), one turn in flight per session.
// The rows' target is the backend; ratios are PostgreSQL against SQLite.
#include <cmath>
#include <memory>

#include "dispatch_rig.hpp"
#include "pg_server.hpp"
#include "scenario_common.hpp"
#include "session_turns.hpp"

namespace vespid::bench {

namespace {

using nlohmann::json;

// Runs every plan entry on one backend's gateway; rows are added with target `backend`.
void run_backend(Report& report, IoPool& pool, const CommonOptions& c,
                 const StorageCompareOptions& o, GatewayOptions g, const std::string& backend,
                 const PgServer* pg) {
  note("storage-compare: " + backend);
  GatewayRunner gw(g);
  gw.start();
  auto creds = ensure_ws_creds(gw, o.hosts);
  WsFleet hosts(pool, gw.ws_port());
  hosts.set_turn_deltas(o.turn_deltas);
  DispatchRig rig(pool, gw, make_payload(c.size));
  // Session turns' acks (requestId "<sessionId>:agent:<n>") find no dispatch router and are
  // ignored.
  hosts.on_ack([&rig](std::string_view id) { rig.ack(id); });
  connect_or_throw(hosts, creds);
  SessionTurns turns(pool, gw, o.sessions);

  Target dispatch = rig.target(backend);
  Target turn = turns.target(backend);
  if (pg) {
    // The server's backends work for the gateway: their CPU counts with it.
    dispatch.more_cpu = turn.more_cpu = [pg] { return pg->cpu_seconds(); };
  }
  const LoadSpec one_each{1, 0, c.warmup_s, c.duration_s};  // one in flight per caller
  run_target(report, "disp-serial", dispatch, one_each, 1);
  run_target(report, "disp-load", dispatch, LoadSpec{o.in_flight, 0, c.warmup_s, c.duration_s},
             o.callers);
  // Events stored per second: turns that ended in the window times the events per turn the
  // clients counted over the run.
  auto turn_run = [&](const std::string& run, int sessions) {
    const LoadResult r = run_target(report, run, turn, one_each, sessions);
    const SessionTurns::Counts k = turns.last_counts();
    const double per_turn = k.turns > 0 ? static_cast<double>(k.events) / k.turns : 0;
    const double turns_per_s = static_cast<double>(r.completed_in_window) / r.window_s;
    report.add_figure(backend + " " + run + ": events per turn (clients' count)", per_turn, "");
    report.add_figure(backend + " " + run + ": events stored/s", turns_per_s * per_turn, "/s");
    if (k.gaps > 0) {
      report.add_figure(backend + " " + run + ": seq gaps or repeats seen",
                        static_cast<double>(k.gaps), "");
    }
    return k.gaps == 0;
  };
  bool clean = turn_run("turn-serial", 1);
  clean = turn_run("turn-load", o.sessions) && clean;
  if (!clean) report.set(backend + "SeqAnomalies", true);
  report.add_process("gateway " + backend, "after", read_proc_stats(gw.pid()));
  rig.stop();
  hosts.close_all();
  gw.stop();
}

// figure of `target` against the same figure of `base` in every run the two share.
void add_backend_ratios(Report& report, const std::string& target, const std::string& base) {
  for (const char* run : {"disp-serial", "disp-load", "turn-serial", "turn-load"}) {
    const json* t = report.load_row(run, target);
    const json* b = report.load_row(run, base);
    if (!t || !b) continue;
    const std::string what = target + " " + run;
    report.add_ratio(what + " throughput", (*t)["throughput"], "/s", base, (*b)["throughput"]);
    report.add_ratio(what + " p50", (*t)["p50Us"], "µs", base, (*b)["p50Us"]);
    report.add_ratio(what + " p99", (*t)["p99Us"], "µs", base, (*b)["p99Us"]);
    if (t->contains("serverCpuUsPerReq") && b->contains("serverCpuUsPerReq")) {
      report.add_ratio(what + " CPU per request", (*t)["serverCpuUsPerReq"], "µs", base,
                       (*b)["serverCpuUsPerReq"]);
    }
  }
}

}  // namespace

int run_storage_compare(const CommonOptions& c, const StorageCompareOptions& o) {
  raise_nofile(2 * o.hosts + 4096);
  IoPool pool(c.threads);
  Report report("storage-compare");
  json setup = setup_facts(c);
  setup["hosts"] = o.hosts;
  setup["dispatchCallers"] = o.callers;
  setup["dispatchInFlight"] = o.in_flight;
  setup["sessions"] = o.sessions;
  setup["turnDeltas"] = o.turn_deltas;
  report.set("setup", setup);

  RunDir dir(c, "storage");
  // PostgreSQL runs from the start, idle during the SQLite runs, so both see the same machine.
  PgServer pg;
  pg.start();

  GatewayOptions sqlite = c.gateway;
  sqlite.state_dir = dir.path() + "/sqlite";
  run_backend(report, pool, c, o, sqlite, "sqlite", nullptr);

  GatewayOptions postgres = c.gateway;
  postgres.state_dir = dir.path() + "/postgres";
  use_postgres(postgres, pg.conninfo(), "bench");
  run_backend(report, pool, c, o, postgres, "postgres", &pg);

  add_backend_ratios(report, "postgres", "sqlite");
  report.add_figure("bench client CPU (all runs)", self_cpu_seconds(), "s");
  pool.stop();
  pg.stop();
  const bool failed = report.load_failed() || report.has("sqliteSeqAnomalies") ||
                      report.has("postgresSeqAnomalies");
  return finish(report, c, failed);
}

}  // namespace vespid::bench
