// Network namespaces for tests that cross a network: hosts made of `ip netns`, joined by veth
// pairs, with (when asked) a private dbus-daemon and a real avahi-daemon bound to one veth.
// Nothing here touches the machine's own interfaces, so no packet (multicast included) leaves
// the machine. Everything it creates is removed when it is destroyed, also after a failed
// assertion; names carry the test's pid so parallel runs do not collide.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "process.hpp"

namespace vespid::test {

class NetnsLab {
 public:
  // Empty when namespaces can be made here; otherwise why not (for VESPID_SKIP_UNLESS_CI).
  static std::string unavailable_reason();

  explicit NetnsLab(std::string work_dir);
  ~NetnsLab();
  NetnsLab(const NetnsLab&) = delete;
  NetnsLab& operator=(const NetnsLab&) = delete;

  // A new namespace "vsp<pid>-<tag>" with lo up. Returns its name. Throws on failure.
  std::string add_ns(const std::string& tag);
  // A veth pair, one end in each namespace, both up. Interface names are at most 15 bytes.
  void veth(const std::string& ns_a, const std::string& if_a, const std::string& ns_b,
            const std::string& if_b);
  // `flags` go after the device, e.g. {"nodad"} for an IPv6 address usable at once.
  void addr_add(const std::string& ns, const std::string& ifname, const std::string& cidr,
                const std::vector<std::string>& flags = {});
  void addr_del(const std::string& ns, const std::string& ifname, const std::string& cidr);

  // {"ip", "netns", "exec", ns}
  static std::vector<std::string> in_ns(const std::string& ns);
  // Runs argv inside ns and waits for it.
  CommandResult run(const std::string& ns, const std::vector<std::string>& argv,
                    const EnvOverrides& env = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // The "address:port" of every listening TCP socket in ns (ss -Hltn).
  std::vector<std::string> listening(const std::string& ns);

  // One mDNS responder: a private system bus and avahi-daemon on one interface of ns.
  struct Mdns {
    std::string ns, ifname, host_name;
    std::string bus_address;  // for DBUS_SYSTEM_BUS_ADDRESS
    std::string conf, log;
    pid_t dbus = -1, avahi = -1;
  };
  Mdns start_mdns(const std::string& ns, const std::string& ifname, const std::string& host_name);
  void start_avahi(Mdns& m);
  // SIGTERM and reap.
  void stop_avahi(Mdns& m);
  // Waits until avahi-daemon logs that it is up ("Server startup complete").
  bool wait_avahi_ready(const Mdns& m, std::chrono::milliseconds timeout);

  // `avahi-browse -rtp <type>` through m's daemon: the resolved ("=") lines.
  std::vector<std::string> browse(const Mdns& m, const std::string& type);

  const std::string& dir() const { return dir_; }

 private:
  pid_t spawn_logged(const std::vector<std::string>& argv, const EnvOverrides& env,
                     const std::string& log);
  void must(const std::vector<std::string>& argv);
  static void kill_and_reap(pid_t pid);

  std::string dir_;
  std::string prefix_;
  std::vector<std::string> namespaces_;
  std::vector<pid_t> processes_;
};

// Polls pred every 50 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

}  // namespace vespid::test
