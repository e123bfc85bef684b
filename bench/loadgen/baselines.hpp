// The baselines every gateway figure is compared with, run in the same process on the same
// machine with the same payload: raw one-hop (client -> echo), raw two-hop (client -> relay ->
// echo -> relay -> client) and NATS request/reply (requester -> nats-server -> responder and
// back). The servers in the middle are other processes, as the gateway is.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "core_load.hpp"
#include "io_pool.hpp"
#include "load.hpp"
#include "nats.hpp"
#include "options.hpp"
#include "report.hpp"

namespace vespid::bench {

// Something to run load against: a way to open `callers` channels, and the process that does
// the work in the middle (for its CPU time).
struct Target {
  std::string name;
  pid_t server_pid = -1;
  std::function<std::vector<std::shared_ptr<Channel>>(int callers)> open;
  // CPU seconds so far of other processes in the middle, which count too (an invoke across
  // gateway instances goes through two gateways and a nats-server; a gateway on PostgreSQL
  // has the server's backends working for it). NaN when unknown; empty: none.
  std::function<double()> more_cpu = {};
  // The gateway's busy seconds so far, of its core and of its storage commits (core_load.hpp);
  // empty: not a gateway. The run's row then says what share of its wall time each was busy.
  std::function<SerialBusy()> serial_busy = {};
};

class Baselines {
 public:
  // With node_subjects > 1 there is also "nats-nodes": that many responders, each on its own
  // subject, requests addressed round robin, as the gateway's callers address its nodes.
  Baselines(IoPool& pool, const CommonOptions& opts, std::string work_dir, int node_subjects = 0);
  ~Baselines();
  void start();
  void stop();

  std::vector<Target> targets();
  pid_t nats_pid() const { return nats_.pid(); }
  int nats_port() const { return nats_.port(); }

 private:
  IoPool& pool_;
  CommonOptions opts_;
  std::string dir_;
  std::string payload_;
  ChildProcess raw_;
  int raw_echo_port_ = 0, raw_relay_port_ = 0;
  NatsServer nats_;
  std::vector<std::shared_ptr<NatsConn>> responders_;
  int node_subjects_ = 0;
  std::shared_ptr<const std::vector<std::string>> shared_subject_, node_subject_names_;
  std::size_t spread_ = 0;
  int next_tag_ = 0;
};

// The gateway as a target: `callers` admin-socket connections calling nodes.invoke on `nodes`,
// each caller starting at a different node so the load spreads evenly.
Target gateway_invoke_target(IoPool& pool, pid_t gateway_pid, std::string socket_path,
                             std::shared_ptr<const std::vector<std::string>> nodes,
                             std::string payload, std::string name = "gateway");

// Runs `spec` on a fresh set of `callers` channels of `t`, adds the row to the report, closes
// the channels. Returns the result.
LoadResult run_target(Report& report, const std::string& run, Target& t, const LoadSpec& spec,
                      int callers);

// The runs every latency scenario makes on each target: serial (1 caller, 1 in flight) and
// load (callers × in_flight), plus paced at `rate` when rate > 0.
struct RunPlan {
  std::string name;
  LoadSpec spec;
  int callers;
};
std::vector<RunPlan> standard_plan(const CommonOptions& c, int callers, int in_flight, double rate);

// The baselines a gateway figure is compared with, in the order the ratios are listed.
inline const std::vector<std::string> kStandardBaselines = {"nats-nodes", "nats", "raw-2hop",
                                                            "raw-1hop"};

// Adds "<target> <run> p50/p99/throughput vs <baseline>" ratios for every baseline row that
// the report holds for the same run.
void add_standard_ratios(Report& report, const std::string& target,
                         const std::vector<RunPlan>& plan,
                         const std::vector<std::string>& baselines = kStandardBaselines);

// The payload every request carries: `size` printable bytes (no escaping needed).
std::string make_payload(int size);

}  // namespace vespid::bench
