// The vespid-worker processes of the `workflow` scenario: real workers from the same build,
// pointed at the bench's gateway with its internal token, each logging (at --log-level warn)
// to a file in the gateway's state directory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "gateway_runner.hpp"

namespace vespid::bench {

struct WorkerProcsOptions {
  std::string bin;  // empty: vespid-worker next to this binary, as the gateway is found
  int count = 2;
  int concurrency = 8;
};

class WorkerProcs {
 public:
  WorkerProcs(const GatewayRunner& gw, WorkerProcsOptions opts);
  ~WorkerProcs();

  // Starts them. One that cannot run (a missing binary, a flag it refuses) exits at once: the
  // scenario's first run, which no worker then claims, looks at exited() while it waits.
  void start();
  // How many have exited so far.
  int exited();
  // SIGTERM each (a worker hands its runs back and exits 0); returns how many did not exit 0,
  // or had exited before they were told to.
  int stop();
  // CPU seconds the workers have used so far, summed; NaN when one cannot be read.
  double cpu_seconds() const;
  std::vector<pid_t> pids() const;
  std::string log_path(int i) const;

 private:
  const GatewayRunner& gw_;
  WorkerProcsOptions opts_;
  std::vector<std::unique_ptr<ChildProcess>> procs_;
};

}  // namespace vespid::bench
