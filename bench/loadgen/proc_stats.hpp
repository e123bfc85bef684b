// What /proc says about a process: resident memory now and at its peak, CPU time used, open
// file descriptors.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vespid::bench {

struct ProcStats {
  bool valid = false;
  uint64_t rss_kib = 0;  // VmRSS
  uint64_t hwm_kib = 0;  // VmHWM: the peak resident set
  double cpu_s = 0;      // utime + stime
  int threads = 0;
};

// Reads /proc/<pid>/status and /proc/<pid>/stat; valid=false if the process is gone.
ProcStats read_proc_stats(pid_t pid);

// Open file descriptors of the process (the entries of /proc/<pid>/fd); -1 if unreadable.
int count_open_fds(pid_t pid);

// CPU seconds used by process `pid` and every live descendant of it, with what their exited
// children used. PostgreSQL's backends each call setsid(), so only this finds them all from the
// postmaster. NaN when `pid` is gone.
double tree_cpu_seconds(pid_t pid);

// CPU seconds this process (the bench itself) has used, every thread included.
double self_cpu_seconds();

// Each live thread of `pid` with the time it has spent on a CPU, by the scheduler's clock
// (/proc/<pid>/task/<tid>/schedstat, nanoseconds). Empty when the process is gone.
struct ThreadCpu {
  int tid = 0;
  std::string name;  // its comm: "vsp-bridge-0", "vespid-gateway"
  uint64_t on_cpu_ns = 0;
};
std::vector<ThreadCpu> read_thread_cpu(pid_t pid);

// How much of a core each thread of `after` used over `wall_s` seconds since `before` (a
// thread that started in between counts from zero), busiest first, leaving out those under
// `floor` cores.
struct ThreadShare {
  std::string name;
  double cores = 0;
};
std::vector<ThreadShare> thread_shares(const std::vector<ThreadCpu>& before,
                                       const std::vector<ThreadCpu>& after, double wall_s,
                                       double floor = 0.01);

}  // namespace vespid::bench
