// vespid-bench: the load generator. Plays many nodes and operators over the real transports on
// loopback against a real vespid-gateway, with raw-loopback and NATS baselines measured in the
// same run. docs/performance.md has the figures and the commands that made them.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <exception>

#include "cpu_pins.hpp"
#include "options.hpp"
#include "raw_servers.hpp"
#include "reference.hpp"

using namespace vespid::bench;

namespace {

void add_common(CLI::App* app, CommonOptions& c) {
  app->add_option("--threads", c.threads, "client threads, one io_context each")
      ->check(CLI::Range(1, 64));
  app->add_option("--warmup", c.warmup_s, "seconds of load before measuring")
      ->check(CLI::Range(0.0, 600.0));
  app->add_option("--duration", c.duration_s, "seconds measured (idle: seconds held)")
      ->check(CLI::Range(0.1, 3600.0));
  app->add_option("--size", c.size, "payload bytes per request, gateway and baselines alike")
      ->check(CLI::Range(1, 1 << 20));
  app->add_flag("--json", c.json, "print the report as JSON");
  app->add_flag("!--no-baselines", c.baselines, "skip the raw and NATS baselines");
  app->add_option("--nats-server", c.nats_bin, "nats-server binary");
  app->add_option("--gateway-bin", c.gateway.gateway_bin,
                  "vespid-gateway to start (default: next to vespid-bench)");
  app->add_option("--plugin-dir", c.gateway.plugin_dir, "the gateway's plugin directory");
  app->add_option("--state-dir", c.gateway.state_dir,
                  "gateway state directory, kept with its paired nodes for later runs "
                  "(default: a temporary one)");
  app->add_flag("--attach", c.gateway.attach,
                "use the gateway already running on --state-dir (started by an earlier run)");
  app->add_option("--gateway-log-level", c.gateway.log_level, "the gateway's log.level");
  app->add_option("--io-threads", c.gateway.io_threads,
                  "I/O threads of the gateway's bridge and ws listeners (their `threads`)")
      ->check(CLI::Range(1, 64));
  app->add_option("--busy-poll-us", c.gateway.busy_poll_us,
                  "how long the gateway's bridge I/O threads poll before sleeping (their "
                  "`busy_poll_us`; default 0, as shipped)")
      ->check(CLI::Range(0, 10000));
  app->add_option("--client-cpus", c.client_cpus,
                  "CPUs the bench's own threads run on, as taskset -c takes them (\"0\", \"0-1\"); "
                  "default: all");
  app->add_option("--server-cpus", c.server_cpus,
                  "CPUs every server the bench starts runs on (the gateway and the baselines' "
                  "servers alike); default: all");
  app->add_option("--sqlite-synchronous", c.gateway.sqlite_synchronous,
                  "the SQLite storage's `synchronous` (default: the plugin's, full); normal "
                  "skips the fsync of each commit")
      ->check(CLI::IsMember({"full", "normal"}));
}

// A reference gateway started by hand beside this one (issue 17): the same load on both.
void add_reference(CLI::App* app, ReferenceOptions& r, const std::string& name) {
  app->add_option("--reference", r.name,
                  "also drive the same runs against this reference gateway, started by hand "
                  "(docs/performance.md), back to back, with the ratios")
      ->check(CLI::IsMember({name}));
  const bool v1 = name == "vespid-v1";
  app->add_option("--ref-port", r.port,
                  v1 ? "the reference's port (HTTP API and /ws) on 127.0.0.1"
                     : "the reference's gateway WebSocket port on 127.0.0.1")
      ->check(CLI::Range(1, 65535));
  app->add_option("--ref-token", r.token,
                  v1 ? "the reference's GATEWAY_SERVICE_TOKEN (x-gateway-token)"
                     : "the reference's gateway.auth.token");
  app->add_option("--ref-pid", r.pid, "the reference's server process (its CPU and memory)");
  app->add_option("--ref-cpu-tree", r.cpu_trees,
                  "a process whose CPU, with its descendants', counts as the reference's too "
                  "(its PostgreSQL postmaster, Redis); repeatable");
  if (v1) {
    app->add_option("--ref-agent-tokens", r.agent_tokens,
                    "file of node-host tokens for the reference, one per line (<orgId>.<secret>)");
  } else {
    app->add_option("--ref-bridge-port", r.bridge_port, "the reference's bridge port on 127.0.0.1")
        ->check(CLI::Range(1, 65535));
    app->add_option("--ref-node-tokens", r.node_tokens,
                    "file where the bench keeps the tokens of the bridge nodes it paired on the "
                    "reference (reused by later runs)");
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"vespid-bench: load generator for vespid-gateway, with same-run baselines"};
  app.require_subcommand(1);
  CommonOptions common;
  InvokeOptions inv;
  DispatchOptions dis;
  IdleOptions idle;
  ReconnectOptions rec;
  SoakOptions soak;
  SoakAllOptions all;
  // The scenarios with throwaway PostgreSQL and nats-server default to longer runs than the
  // others (2 s warm-up, 10 s measured): a few minutes in all on two cores.
  CommonOptions svc_common;
  svc_common.warmup_s = 2;
  svc_common.duration_s = 10;
  ClusterInvokeOptions cl;
  StorageCompareOptions sc;
  WorkflowOptions wfo;

  auto* invoke = app.add_subcommand("invoke", "operators call nodes.invoke on bridge nodes");
  add_common(invoke, common);
  invoke->add_option("--nodes", inv.nodes, "bridge nodes")->check(CLI::Range(1, 100000));
  invoke->add_option("--callers", inv.callers, "operator connections in the load run")
      ->check(CLI::Range(1, 512));
  invoke->add_option("--in-flight", inv.in_flight, "invokes in flight per caller in the load run")
      ->check(CLI::Range(1, 65535));
  invoke->add_option("--rate", inv.rate, "also a paced run at this many invokes/s (open loop)");
  invoke->add_flag("--tls", inv.tls,
                   "then the same runs with the nodes on a TLS bridge listener of the same "
                   "gateway (target gateway-tls), each figure next to the plain one");
  ReferenceOptions inv_ref;
  add_reference(invoke, inv_ref, "clawdbot");

  auto* base = app.add_subcommand("baseline", "the raw and NATS baselines alone");
  add_common(base, common);
  base->add_option("--callers", inv.callers)->check(CLI::Range(1, 512));
  base->add_option("--in-flight", inv.in_flight)->check(CLI::Range(1, 65535));
  base->add_option("--rate", inv.rate);

  auto* dispatch = app.add_subcommand("dispatch", "internal dispatch to /ws node hosts");
  add_common(dispatch, common);
  dispatch->add_option("--hosts", dis.hosts, "node hosts")->check(CLI::Range(1, 100000));
  dispatch->add_option("--callers", dis.callers, "HTTP connections in the load run")
      ->check(CLI::Range(1, 512));
  dispatch->add_option("--in-flight", dis.in_flight, "dispatches in flight per connection")
      ->check(CLI::Range(1, 65535));
  dispatch->add_option("--rate", dis.rate, "also a paced run at this many dispatches/s");
  ReferenceOptions dis_ref;
  add_reference(dispatch, dis_ref, "vespid-v1");

  auto* idle_cmd = app.add_subcommand("idle", "hold N idle nodes: gateway RSS per node");
  add_common(idle_cmd, common);
  idle_cmd->add_option("--nodes", idle.nodes)->check(CLI::Range(1, 100000));
  idle_cmd
      ->add_option("--transport", idle.transport,
                   "bridge, ws, or over TLS: bridge-tls, wss (each next to its plain form, "
                   "fresh gateways, same run)")
      ->check(CLI::IsMember({"bridge", "ws", "bridge-tls", "wss"}));

  auto* reconnect = app.add_subcommand("reconnect", "N nodes drop and reconnect at once");
  add_common(reconnect, common);
  reconnect->add_option("--nodes", rec.nodes)->check(CLI::Range(1, 100000));
  reconnect->add_option("--rounds", rec.rounds)->check(CLI::Range(1, 100));
  reconnect->add_flag("--tls", rec.tls,
                      "then the same rounds on a TLS bridge listener: handshakes/s and gateway "
                      "CPU per reconnect, TLS against plain");

  auto* soak_cmd = app.add_subcommand(
      "soak", "paced invokes for --duration s with connection churn: gateway RSS before/after");
  add_common(soak_cmd, common);
  soak_cmd->add_option("--nodes", soak.nodes)->check(CLI::Range(1, 100000));
  soak_cmd->add_option("--callers", soak.callers)->check(CLI::Range(1, 512));
  soak_cmd->add_option("--in-flight", soak.in_flight)->check(CLI::Range(1, 65535));
  soak_cmd->add_option("--rate", soak.rate, "invokes/s across all callers")
      ->check(CLI::Range(1.0, 1e7));
  soak_cmd
      ->add_option("--round", soak.round_s,
                   "seconds per round (fresh operator connections; nodes reconnect after it)")
      ->check(CLI::Range(1.0, 3600.0));
  soak_cmd->add_option("--settle", soak.settle_s, "idle seconds before each memory reading")
      ->check(CLI::Range(0.0, 600.0));

  auto* all_cmd = app.add_subcommand(
      "soak-all",
      "invokes, dispatches, session turns, node churn and slow consumers at once, in rounds, for "
      "--duration s: gateway RSS and fds per round, every acknowledged write read back at the "
      "end");
  add_common(all_cmd, common);
  all_cmd->add_option("--nodes", all.nodes, "bridge nodes (invoked)")->check(CLI::Range(1, 100000));
  all_cmd->add_option("--callers", all.callers, "operator connections calling nodes.invoke")
      ->check(CLI::Range(1, 512));
  all_cmd->add_option("--in-flight", all.in_flight, "invokes in flight per caller")
      ->check(CLI::Range(1, 65535));
  all_cmd->add_option("--rate", all.rate, "invokes/s")->check(CLI::Range(1.0, 1e7));
  all_cmd->add_option("--hosts", all.hosts, "/ws node hosts (dispatches and session turns)")
      ->check(CLI::Range(1, 100000));
  all_cmd->add_option("--dispatch-rate", all.dispatch_rate, "dispatches/s")
      ->check(CLI::Range(1.0, 1e6));
  all_cmd->add_option("--dispatch-conns", all.dispatch_conns, "HTTP connections for dispatches")
      ->check(CLI::Range(1, 512));
  all_cmd->add_option("--dispatch-in-flight", all.dispatch_in_flight, "per HTTP connection")
      ->check(CLI::Range(1, 65535));
  all_cmd->add_option("--sessions", all.sessions, "sessions (one control client each)")
      ->check(CLI::Range(1, 1000));
  all_cmd->add_option("--turn-rate", all.turn_rate, "session_send/s over all sessions")
      ->check(CLI::Range(0.1, 1e5));
  all_cmd->add_option("--turn-deltas", all.turn_deltas, "assistant deltas per turn")
      ->check(CLI::Range(1, 1000));
  all_cmd->add_option("--round", all.round_s, "seconds of load per round")
      ->check(CLI::Range(1.0, 3600.0));
  all_cmd->add_option("--stall", all.stall_s, "seconds the stalled slow consumer reads nothing")
      ->check(CLI::Range(0.0, 3600.0));
  all_cmd->add_option("--settle", all.settle_s, "idle seconds before each round's reading")
      ->check(CLI::Range(0.0, 600.0));
  all_cmd
      ->add_option("--fd-tolerance", all.fd_tolerance,
                   "open fds the gateway may end with above the first round's")
      ->check(CLI::Range(0, 100000));

  auto* cluster_cmd = app.add_subcommand(
      "cluster-invoke",
      "nodes.invoke across two gateway instances sharing PostgreSQL and nats-server (started on "
      "loopback): nodes on a, callers on b, against callers on a and the NATS baseline");
  add_common(cluster_cmd, svc_common);
  cluster_cmd->add_option("--nodes", cl.nodes, "bridge nodes, on instance a")
      ->check(CLI::Range(1, 100000));
  cluster_cmd->add_option("--callers", cl.callers, "operator connections in the load run")
      ->check(CLI::Range(1, 512));
  cluster_cmd->add_option("--in-flight", cl.in_flight, "invokes in flight per caller")
      ->check(CLI::Range(1, 65535));
  cluster_cmd->add_option("--rate", cl.rate, "also a paced run at this many invokes/s");
  cluster_cmd->add_option("--heartbeat-ms", cl.heartbeat_ms, "cluster.heartbeat_ms")
      ->check(CLI::Range(50, 60000));
  cluster_cmd->add_option("--lease-ms", cl.lease_ms, "cluster.lease_ms")
      ->check(CLI::Range(100, 600000));

  PairingOptions pairing;
  auto* pairing_cmd = app.add_subcommand(
      "pairing",
      "--count bridge nodes, pairing tokens and node hosts paired at once, and a tenth of that, "
      "each on a fresh gateway: pairs/s and time per node at both sizes (linear: ratio ~1)");
  add_common(pairing_cmd, common);
  pairing_cmd->add_option("--count", pairing.count, "of each kind")->check(CLI::Range(10, 100000));

  auto* storage_cmd = app.add_subcommand(
      "storage-compare",
      "dispatch and session-turn throughput on PostgreSQL (started on loopback) against SQLite, "
      "same load, same run");
  add_common(storage_cmd, svc_common);
  storage_cmd->add_option("--hosts", sc.hosts, "/ws node hosts")->check(CLI::Range(1, 100000));
  storage_cmd->add_option("--callers", sc.callers, "HTTP connections in the dispatch load run")
      ->check(CLI::Range(1, 512));
  storage_cmd->add_option("--in-flight", sc.in_flight, "dispatches in flight per connection")
      ->check(CLI::Range(1, 65535));
  storage_cmd->add_option("--sessions", sc.sessions, "sessions in the turn load run, 1 turn each")
      ->check(CLI::Range(1, 1000));
  storage_cmd->add_option("--turn-deltas", sc.turn_deltas, "assistant deltas per turn")
      ->check(CLI::Range(1, 1000));

  auto* workflow_cmd = app.add_subcommand(
      "workflow",
      "one-node workflow runs (vespid-worker, /ws node hosts) against the bare dispatch of the "
      "same node, serially and with --callers at once: the latency a run adds, runs/s");
  add_common(workflow_cmd, common);
  workflow_cmd->add_option("--hosts", wfo.hosts, "/ws node hosts")->check(CLI::Range(1, 100000));
  workflow_cmd->add_option("--workers", wfo.workers, "vespid-worker processes")
      ->check(CLI::Range(1, 64));
  workflow_cmd
      ->add_option("--worker-concurrency", wfo.worker_concurrency, "each worker's runs at once")
      ->check(CLI::Range(1, 256));
  workflow_cmd
      ->add_option("--callers", wfo.callers,
                   "runs (and dispatches) in flight in the load run, one per caller")
      ->check(CLI::Range(1, 512));
  workflow_cmd->add_option("--worker-bin", wfo.worker_bin,
                           "vespid-worker to start (default: next to vespid-bench)");

  // Internal: the raw baselines' servers, run as a child process by the other subcommands.
  int echo_port = 0, relay_port = 0, upstream_port = 0;
  auto* serve = app.add_subcommand("serve-raw", "(internal) raw echo and relay servers");
  serve->group("");
  serve->add_option("--echo-port", echo_port)->required();
  serve->add_option("--relay-port", relay_port)->required();
  serve->add_option("--upstream-port", upstream_port)->required();

  CLI11_PARSE(app, argc, argv);
  try {
    // Before any thread or child starts; the serve-raw child is pinned by its parent.
    for (const CommonOptions* o : {&common, &svc_common}) {
      if (!o->server_cpus.empty()) pin_servers(o->server_cpus);
      if (!o->client_cpus.empty()) pin_clients(o->client_cpus);
    }
    if (*invoke) {
      return inv_ref.any() ? run_reference_invoke(common, inv, inv_ref) : run_invoke(common, inv);
    }
    if (*base) return run_baselines_only(common, inv);
    if (*dispatch) {
      return dis_ref.any() ? run_reference_dispatch(common, dis, dis_ref)
                           : run_dispatch(common, dis);
    }
    if (*idle_cmd) return run_idle(common, idle);
    if (*reconnect) return run_reconnect(common, rec);
    if (*soak_cmd) return run_soak(common, soak);
    if (*all_cmd) return run_soak_all(common, all);
    if (*cluster_cmd) return run_cluster_invoke(svc_common, cl);
    if (*storage_cmd) return run_storage_compare(svc_common, sc);
    if (*pairing_cmd) return run_pairing(common, pairing);
    if (*workflow_cmd) return run_workflow(common, wfo);
    if (*serve) return serve_raw(echo_port, relay_port, upstream_port);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vespid-bench: %s\n", e.what());
    return 2;
  }
  return 0;
}
