#include "netns_lab.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "temp_dir.hpp"

namespace vespid::test {

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string NetnsLab::unavailable_reason() {
  // Lets a root machine see what a machine without namespaces does (CI must fail, not skip).
  if (const char* force = std::getenv("VESPID_TEST_FORCE_NO_NETNS"); force && *force) {
    return "VESPID_TEST_FORCE_NO_NETNS is set: behaving as if network namespaces were missing";
  }
  if (::geteuid() != 0) return "network namespaces need root (CAP_NET_ADMIN); running as non-root";
  const std::string probe = "vsp" + std::to_string(::getpid()) + "-probe";
  auto add = run_command({"ip", "netns", "add", probe}, {}, std::chrono::seconds(10));
  if (add.exit_code != 0) {
    return "`ip netns add` does not work here (" + trim(add.err) + ")";
  }
  run_command({"ip", "netns", "del", probe}, {}, std::chrono::seconds(10));
  return "";
}

NetnsLab::NetnsLab(std::string work_dir)
    : dir_(std::move(work_dir)), prefix_("vsp" + std::to_string(::getpid()) + "-") {}

NetnsLab::~NetnsLab() {
  for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) kill_and_reap(*it);
  // Deleting a namespace also deletes the veth ends inside it (and so their peers).
  for (const auto& ns : namespaces_) {
    run_command({"ip", "netns", "del", ns}, {}, std::chrono::seconds(10));
  }
}

void NetnsLab::kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  if (::kill(pid, SIGTERM) != 0) return;
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

void NetnsLab::must(const std::vector<std::string>& argv) {
  auto r = run_command(argv, {}, std::chrono::seconds(10));
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    throw std::runtime_error(cmd + "failed: " + r.err);
  }
}

std::string NetnsLab::add_ns(const std::string& tag) {
  const std::string ns = prefix_ + tag;
  run_command({"ip", "netns", "del", ns}, {}, std::chrono::seconds(10));  // a stale leftover
  must({"ip", "netns", "add", ns});
  namespaces_.push_back(ns);
  must({"ip", "-n", ns, "link", "set", "lo", "up"});
  return ns;
}

void NetnsLab::veth(const std::string& ns_a, const std::string& if_a, const std::string& ns_b,
                    const std::string& if_b) {
  must({"ip", "link", "add", if_a, "netns", ns_a, "type", "veth", "peer", "name", if_b, "netns",
        ns_b});
  must({"ip", "-n", ns_a, "link", "set", if_a, "up"});
  must({"ip", "-n", ns_b, "link", "set", if_b, "up"});
}

void NetnsLab::addr_add(const std::string& ns, const std::string& ifname, const std::string& cidr,
                        const std::vector<std::string>& flags) {
  std::vector<std::string> argv{"ip", "-n", ns, "addr", "add", cidr, "dev", ifname};
  argv.insert(argv.end(), flags.begin(), flags.end());
  must(argv);
}

void NetnsLab::addr_del(const std::string& ns, const std::string& ifname, const std::string& cidr) {
  must({"ip", "-n", ns, "addr", "del", cidr, "dev", ifname});
}

std::vector<std::string> NetnsLab::in_ns(const std::string& ns) {
  return {"ip", "netns", "exec", ns};
}

CommandResult NetnsLab::run(const std::string& ns, const std::vector<std::string>& argv,
                            const EnvOverrides& env, std::chrono::milliseconds timeout) {
  std::vector<std::string> full = in_ns(ns);
  full.insert(full.end(), argv.begin(), argv.end());
  return run_command(full, env, timeout);
}

std::vector<std::string> NetnsLab::listening(const std::string& ns) {
  auto r = run(ns, {"ss", "-Hltn"});
  std::vector<std::string> out;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    // State Recv-Q Send-Q Local:Port Peer:Port
    std::istringstream f(line);
    std::string state, rq, sq, local;
    if (f >> state >> rq >> sq >> local) out.push_back(local);
  }
  std::sort(out.begin(), out.end());
  return out;
}

pid_t NetnsLab::spawn_logged(const std::vector<std::string>& argv, const EnvOverrides& env,
                             const std::string& log) {
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = -1;
  try {
    pid = spawn(argv, env, devnull, fd, fd);
  } catch (...) {
    ::close(fd);
    ::close(devnull);
    throw;
  }
  ::close(fd);
  ::close(devnull);
  processes_.push_back(pid);
  return pid;
}

NetnsLab::Mdns NetnsLab::start_mdns(const std::string& ns, const std::string& ifname,
                                    const std::string& host_name) {
  Mdns m;
  m.ns = ns;
  m.ifname = ifname;
  m.host_name = host_name;
  const std::string base = dir_ + "/" + ns;
  const std::string socket = base + "-bus.sock";
  m.bus_address = "unix:path=" + socket;
  // A system bus of our own: avahi-daemon owns org.freedesktop.Avahi on it, and only processes
  // that are pointed at it (DBUS_SYSTEM_BUS_ADDRESS) see it.
  std::ofstream(base + "-bus.conf")
      << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\" "
         "\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
         "<busconfig><type>system</type><listen>unix:path="
      << socket
      << "</listen><auth>EXTERNAL</auth><policy context=\"default\"><allow user=\"*\"/>"
         "<allow own=\"*\"/><allow send_destination=\"*\"/><allow receive_sender=\"*\"/>"
         "</policy></busconfig>\n";
  m.dbus = spawn_logged(
      {"dbus-daemon", "--config-file=" + base + "-bus.conf", "--nofork", "--nopidfile"}, {},
      base + "-dbus.log");
  if (!eventually([&] { return ::access(socket.c_str(), F_OK) == 0; }, std::chrono::seconds(10))) {
    throw std::runtime_error("dbus-daemon did not create " + socket + ": " +
                             read_file(base + "-dbus.log"));
  }
  m.conf = base + "-avahi.conf";
  std::ofstream(m.conf) << "[server]\nhost-name=" << host_name
                        << "\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=" << ifname
                        << "\nenable-dbus=yes\n[wide-area]\nenable-wide-area=no\n"
                           // IPv4 only: by default avahi also publishes the host's IPv6
                           // link-local address (AAAA) over IPv4 mDNS, and a resolve may
                           // then answer that instead of the veth's IPv4 address.
                           "[publish]\npublish-hinfo=no\npublish-workstation=no\n"
                           "publish-aaaa-on-ipv4=no\n";
  m.log = base + "-avahi.log";
  start_avahi(m);
  return m;
}

void NetnsLab::start_avahi(Mdns& m) {
  // avahi-daemon keeps its pid file and socket in /run/avahi-daemon; a private tmpfs there (in
  // a mount namespace of its own) lets one daemon run per network namespace.
  const std::string script =
      "mkdir -p /run/avahi-daemon && mount -t tmpfs vespid-test /run/avahi-daemon && "
      "exec avahi-daemon --no-drop-root --no-chroot -f " +
      m.conf;
  std::vector<std::string> argv = in_ns(m.ns);
  argv.insert(argv.end(), {"unshare", "-m", "sh", "-c", script});
  std::ofstream(m.log, std::ios::trunc).flush();
  m.avahi = spawn_logged(argv, {{"DBUS_SYSTEM_BUS_ADDRESS", m.bus_address}}, m.log);
}

void NetnsLab::stop_avahi(Mdns& m) {
  kill_and_reap(m.avahi);
  processes_.erase(std::remove(processes_.begin(), processes_.end(), m.avahi), processes_.end());
  m.avahi = -1;
}

bool NetnsLab::wait_avahi_ready(const Mdns& m, std::chrono::milliseconds timeout) {
  return eventually(
      [&] { return read_file(m.log).find("Server startup complete") != std::string::npos; },
      timeout);
}

std::vector<std::string> NetnsLab::browse(const Mdns& m, const std::string& type) {
  auto r = run(m.ns, {"avahi-browse", "-rtp", type}, {{"DBUS_SYSTEM_BUS_ADDRESS", m.bus_address}},
               std::chrono::seconds(15));
  std::vector<std::string> out;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("=;", 0) == 0) out.push_back(line);
  }
  return out;
}

}  // namespace vespid::test
