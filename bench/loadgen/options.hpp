// Options every subcommand shares, and each scenario's own.
#pragma once

#include <string>

#include "gateway_runner.hpp"

namespace vespid::bench {

struct CommonOptions {
  int threads = 1;  // client threads (io_contexts)
  double warmup_s = 1;
  double duration_s = 5;
  int size = 64;  // payload bytes carried by every request, gateway and baselines
  bool json = false;
  bool baselines = true;
  std::string nats_bin = "/usr/sbin/nats-server";
  std::string client_cpus;  // taskset-style list for the bench's own threads; empty: unpinned
  std::string server_cpus;  // the same for every server it starts (gateway and baselines)
  GatewayOptions gateway;
};

struct InvokeOptions {
  int nodes = 100;
  int callers = 4;
  int in_flight = 16;  // per caller: callers × in_flight requests in flight in the load run
  double rate = 0;     // also an open-loop run at this many invokes/s (0: none)
  bool tls = false;    // then the same runs again with the nodes on a TLS bridge listener
};

struct DispatchOptions {
  int hosts = 16;
  int callers = 4;
  int in_flight = 4;
  double rate = 0;  // also an open-loop run at this many dispatches/s (0: none)
};

struct IdleOptions {
  int nodes = 1000;
  // bridge, ws, or their TLS forms bridge-tls and wss (each measured next to its plain form on
  // a fresh gateway in the same run).
  std::string transport = "bridge";
};

struct PairingOptions {
  int count = 10000;  // of each kind; also a tenth of it, for the ratio
};

struct ReconnectOptions {
  int nodes = 1000;
  int rounds = 3;
  bool tls = false;  // then the same rounds again on a TLS bridge listener
};

struct SoakOptions {
  int nodes = 100;
  int callers = 4;
  int in_flight = 16;
  double rate = 5000;   // invokes/s, paced; leaves the machine room for the gateway's own work
  double round_s = 30;  // each round: fresh operator connections, then every node reconnects
  double settle_s = 3;  // idle pause before each memory reading
};

// soak-all: every workload at once, in rounds, with churn, and everything acknowledged read
// back at the end.
struct SoakAllOptions {
  // Bridge nodes, invoked by operators on the admin socket (as `soak`); every node reconnects
  // after every round.
  int nodes = 50;
  int callers = 4;
  int in_flight = 16;
  double rate = 1000;  // invokes/s
  // /ws node hosts: they run the dispatches and the session turns; every host reconnects after
  // every round.
  int hosts = 8;
  double dispatch_rate = 100;  // POST /internal/v1/dispatch-async per second
  int dispatch_conns = 2;      // keep-alive HTTP connections (fresh each round)
  int dispatch_in_flight = 16;
  // Sessions: one control client per session per round (fresh each round) sends messages.
  int sessions = 8;
  double turn_rate = 8;  // session_send per second over all sessions
  int turn_deltas = 16;  // assistant deltas per turn
  double round_s = 60;
  double stall_s = 20;   // the stalled slow consumer reads nothing for this long
  double settle_s = 2;   // idle pause before each round's reading of RSS and fds
  int fd_tolerance = 8;  // fds the gateway may end with above its first reading
};

// cluster-invoke: two gateway instances sharing one PostgreSQL and one nats-server (both
// started by the bench on loopback); bridge nodes on instance a, callers on b's admin socket,
// against callers on a itself and the NATS and raw baselines.
struct ClusterInvokeOptions {
  int nodes = 100;
  int callers = 4;
  int in_flight = 16;
  double rate = 0;          // also a paced run at this many invokes/s (0: none)
  int heartbeat_ms = 1000;  // cluster.heartbeat_ms and lease_ms: the documented example's
  int lease_ms = 5000;
};

// storage-compare: the same dispatch and session-turn load on a gateway with SQLite and on one
// with PostgreSQL (started by the bench on loopback), one after the other in one run.
struct StorageCompareOptions {
  int hosts = 8;  // /ws node hosts: they run the dispatches and the session turns
  int callers = 4;
  int in_flight = 4;     // dispatches in flight per HTTP connection in the load run
  int sessions = 16;     // sessions in the load run, one turn in flight each
  int turn_deltas = 16;  // assistant deltas per turn: a turn stores deltas + 3 events
};

// workflow: a one-node workflow run (started over rest.v1, followed to its verdict) against the
// bare dispatch of the same node (result long-polled as vespid-worker does), serially and with
// `callers` at once; real vespid-worker processes run the runs.
struct WorkflowOptions {
  int hosts = 4;  // /ws node hosts answering execute at once
  int workers = 2;
  int worker_concurrency = 8;  // each worker's --concurrency
  // Runs (or dispatches) in flight in the load run, one per caller: by default as many as the
  // workers execute at once, so none waits in the queue.
  int callers = 16;
  std::string worker_bin;  // empty: vespid-worker next to vespid-bench
};

int run_invoke(const CommonOptions& c, const InvokeOptions& o);
int run_cluster_invoke(const CommonOptions& c, const ClusterInvokeOptions& o);
int run_storage_compare(const CommonOptions& c, const StorageCompareOptions& o);
int run_dispatch(const CommonOptions& c, const DispatchOptions& o);
int run_idle(const CommonOptions& c, const IdleOptions& o);
int run_pairing(const CommonOptions& c, const PairingOptions& o);
int run_reconnect(const CommonOptions& c, const ReconnectOptions& o);
int run_soak(const CommonOptions& c, const SoakOptions& o);
int run_soak_all(const CommonOptions& c, const SoakAllOptions& o);
int run_baselines_only(const CommonOptions& c, const InvokeOptions& o);
int run_workflow(const CommonOptions& c, const WorkflowOptions& o);

}  // namespace vespid::bench
