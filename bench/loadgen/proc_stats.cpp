#include "proc_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace vespid::bench {

ProcStats read_proc_stats(pid_t pid) {
  ProcStats s;
  const std::string base = "/proc/" + std::to_string(pid);
  std::ifstream status(base + "/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream in(line);
    std::string key;
    uint64_t value = 0;
    in >> key >> value;
    if (key == "VmRSS:") s.rss_kib = value;
    if (key == "VmHWM:") s.hwm_kib = value;
    if (key == "Threads:") s.threads = static_cast<int>(value);
  }
  std::ifstream stat(base + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // The command name in parentheses may hold spaces; the fields after the last ')' are fixed:
  // state is field 3, utime 14 and stime 15 (man 5 proc).
  const auto close = all.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream in(all.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  s.cpu_s = static_cast<double>(utime + stime) / hz;
  s.valid = true;
  return s;
}

int count_open_fds(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) return -1;
  int n = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return -1;
    ++n;
  }
  return n;
}

double tree_cpu_seconds(pid_t root) {
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::map<long long, std::vector<long long>> children;
  std::map<long long, long long> ticks_of;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] < '0' || name[0] > '9') continue;
    std::ifstream stat(e.path() / "stat");
    std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = all.rfind(')');
    if (close == std::string::npos) continue;
    // After the name: state (3), ppid (4), pgrp (5), ..., utime (14), stime (15), cutime (16),
    // cstime (17).
    std::istringstream in(all.substr(close + 2));
    std::string field;
    long long ppid = -1, ticks = 0;
    for (int i = 3; i <= 17 && in >> field; ++i) {
      if (i == 4) ppid = std::stoll(field);
      if (i >= 14) ticks += std::stoll(field);
    }
    const long long pid = std::stoll(name);
    ticks_of[pid] = ticks;
    children[ppid].push_back(pid);
  }
  if (!ticks_of.count(root)) return std::nan("");
  long long sum = 0;
  std::vector<long long> todo{root};
  while (!todo.empty()) {
    const long long p = todo.back();
    todo.pop_back();
    sum += ticks_of[p];
    for (long long c : children[p]) todo.push_back(c);
  }
  return static_cast<double>(sum) / hz;
}

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

std::vector<ThreadCpu> read_thread_cpu(pid_t pid) {
  std::vector<ThreadCpu> out;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    ThreadCpu t;
    const std::string tid = e.path().filename().string();
    if (tid.empty() || tid[0] < '0' || tid[0] > '9') continue;
    t.tid = std::stoi(tid);
    std::ifstream comm(e.path() / "comm");
    std::getline(comm, t.name);
    std::ifstream sched(e.path() / "schedstat");
    unsigned long long ns = 0;
    if (!(sched >> ns)) continue;  // the thread ended while it was being read
    t.on_cpu_ns = ns;
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<ThreadShare> thread_shares(const std::vector<ThreadCpu>& before,
                                       const std::vector<ThreadCpu>& after, double wall_s,
                                       double floor) {
  std::vector<ThreadShare> out;
  if (wall_s <= 0) return out;
  for (const auto& a : after) {
    uint64_t start = 0;
    for (const auto& b : before) {
      if (b.tid == a.tid) start = b.on_cpu_ns;
    }
    const double cores =
        static_cast<double>(a.on_cpu_ns > start ? a.on_cpu_ns - start : 0) / 1e9 / wall_s;
    if (cores >= floor) out.push_back({a.name, cores});
  }
  std::sort(out.begin(), out.end(),
            [](const ThreadShare& x, const ThreadShare& y) { return x.cores > y.cores; });
  return out;
}

}  // namespace vespid::bench
