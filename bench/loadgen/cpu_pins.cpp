#include "cpu_pins.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace vespid::bench {
namespace {

// Set once from main, before any thread or child starts; read by children after fork.
bool g_servers_pinned = false;
cpu_set_t g_server_cpus;
bool g_allowed_read = false;
cpu_set_t g_allowed;  // what the bench was started with: the default for its children

const cpu_set_t& allowed() {
  if (!g_allowed_read) {
    CPU_ZERO(&g_allowed);
    if (sched_getaffinity(0, sizeof g_allowed, &g_allowed) != 0) {
      throw std::runtime_error(std::string("sched_getaffinity: ") + std::strerror(errno));
    }
    g_allowed_read = true;
  }
  return g_allowed;
}

int parse_cpu(std::string_view text, const std::string& list) {
  if (text.empty() || text.size() > 4) throw std::invalid_argument("bad CPU list: " + list);
  int n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') throw std::invalid_argument("bad CPU list: " + list);
    n = n * 10 + (c - '0');
  }
  if (n >= CPU_SETSIZE || !CPU_ISSET(n, &allowed())) {
    throw std::invalid_argument("CPU " + std::to_string(n) + " in \"" + list +
                                "\" is not one this process may run on");
  }
  return n;
}

void set_affinity(const cpu_set_t& cpus, const char* what) {
  if (sched_setaffinity(0, sizeof cpus, &cpus) != 0) {
    throw std::runtime_error(std::string("pinning ") + what + ": " + std::strerror(errno));
  }
}

}  // namespace

cpu_set_t parse_cpu_list(const std::string& list) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::string_view rest = list;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto dash = item.find('-');
    const int first = parse_cpu(item.substr(0, dash), list);
    const int last =
        dash == std::string_view::npos ? first : parse_cpu(item.substr(dash + 1), list);
    if (last < first) throw std::invalid_argument("bad CPU range in " + list);
    for (int cpu = first; cpu <= last; ++cpu) CPU_SET(cpu, &set);
  }
  if (CPU_COUNT(&set) == 0) throw std::invalid_argument("empty CPU list");
  return set;
}

void pin_clients(const std::string& list) {
  const cpu_set_t cpus = parse_cpu_list(list);
  allowed();  // read before narrowing it, so children keep the whole set by default
  set_affinity(cpus, "the bench");
}

void pin_servers(const std::string& list) {
  g_server_cpus = parse_cpu_list(list);
  g_servers_pinned = true;
}

const cpu_set_t* server_cpus() noexcept {
  if (g_servers_pinned) return &g_server_cpus;
  return g_allowed_read ? &g_allowed : nullptr;
}

}  // namespace vespid::bench
