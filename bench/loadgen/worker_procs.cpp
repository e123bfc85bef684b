#include "worker_procs.hpp"

#include <chrono>
#include <cmath>

#include "proc_stats.hpp"

namespace vespid::bench {

WorkerProcs::WorkerProcs(const GatewayRunner& gw, WorkerProcsOptions opts)
    : gw_(gw), opts_(std::move(opts)) {}

WorkerProcs::~WorkerProcs() {
  stop();
}

std::string WorkerProcs::log_path(int i) const {
  return gw_.state_dir() + "/worker-" + std::to_string(i) + ".log";
}

void WorkerProcs::start() {
  const std::string bin = opts_.bin.empty() ? self_dir() + "/vespid-worker" : opts_.bin;
  for (int i = 0; i < opts_.count; ++i) {
    auto p = std::make_unique<ChildProcess>();
    // The token in the environment, not on the command line, where ps would show it.
    p->start({bin, "--gateway", "http://127.0.0.1:" + std::to_string(gw_.api_port()), "--id",
              "bench-worker-" + std::to_string(i), "--concurrency",
              std::to_string(opts_.concurrency), "--log-level", "warn"},
             log_path(i), {{"VESPID_INTERNAL_TOKEN", gw_.internal_token()}});
    procs_.push_back(std::move(p));
  }
}

int WorkerProcs::exited() {
  int n = 0;
  for (auto& p : procs_) {
    if (!p->running()) ++n;
  }
  return n;
}

int WorkerProcs::stop() {
  int bad = 0;
  for (auto& p : procs_) {
    // Already gone (reaped by exited()) counts too: a worker is meant to run until told.
    if (p->pid() <= 0 || p->stop(std::chrono::seconds(15)) != 0) ++bad;
  }
  procs_.clear();
  return bad;
}

double WorkerProcs::cpu_seconds() const {
  double sum = 0;
  for (const auto& p : procs_) {
    const ProcStats s = read_proc_stats(p->pid());
    if (!s.valid) return std::nan("");
    sum += s.cpu_s;
  }
  return sum;
}

std::vector<pid_t> WorkerProcs::pids() const {
  std::vector<pid_t> out;
  for (const auto& p : procs_) out.push_back(p->pid());
  return out;
}

}  // namespace vespid::bench
