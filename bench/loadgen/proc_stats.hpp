// What /proc says about a process: resident memory now and at its peak, CPU time used, open
// file descriptors.
#pragma once

#include <sys/types.h>

#include <cstdint>

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

}  // namespace vespid::bench
