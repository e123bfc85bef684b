// Which CPUs the bench's own threads and the servers it starts may run on (`--client-cpus`,
// `--server-cpus`). The multi-core figure is the gateway on one core against two, with
// every baseline server pinned the same way in the same run; on a machine this small the load
// generator shares the cores, so pinning also shows how much of a core each side needs.
#pragma once

#include <sched.h>

#include <string>

namespace vespid::bench {

// Parses a CPU list as taskset -c takes it ("1", "0,1", "0-3,6"). Throws std::invalid_argument
// naming the list if it is malformed or names a CPU this process may not run on.
cpu_set_t parse_cpu_list(const std::string& list);

// Pins this process's calling thread, so every thread it starts afterwards, to the CPUs of
// `list`. Call it before the first thread starts. The servers' CPUs stay the ones the bench was
// given unless pin_servers says otherwise.
void pin_clients(const std::string& list);

// Every child process started afterwards (the gateway, nats-server, the raw servers, workers)
// runs on the CPUs of `list`, set in the child before it execs.
void pin_servers(const std::string& list);

// The CPU set a child is to be given, or nullptr for "as inherited". For ChildProcess.
const cpu_set_t* server_cpus() noexcept;

}  // namespace vespid::bench
