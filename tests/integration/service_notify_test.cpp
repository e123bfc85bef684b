// The gateway under a service manager, without one: a Unix datagram socket stands in for
// systemd's $NOTIFY_SOCKET and the real gateway binary talks to it (sd_notify(3)). What a
// Type=notify unit with WatchdogSec= relies on: STATUS while starting, READY=1 once it serves,
// WATCHDOG=1 at half the interval, RELOADING=1 / READY=1 around SIGHUP, STOPPING=1 on SIGTERM.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gateway_process.hpp"
#include "operator_client.hpp"
#include "skip_or_fail.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using Clock = std::chrono::steady_clock;

// systemd's end of the protocol: a bound datagram socket; each datagram is one message of
// newline-separated assignments.
class FakeNotifySocket {
 public:
  explicit FakeNotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("cannot bind " + path_ + ": " + std::strerror(errno));
    }
  }
  ~FakeNotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

  // Reads messages until `done` says so over everything read so far, or the timeout passes.
  bool read_until(const std::function<bool(const std::vector<std::string>&)>& done,
                  std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!done(messages_)) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) messages_.emplace_back(buf, static_cast<size_t>(n));
    }
    return true;
  }
  const std::vector<std::string>& messages() const { return messages_; }
  std::string all() const {
    std::string out;
    for (const auto& m : messages_) out += "[" + m + "]\n";
    return out;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

bool has(const std::string& message, const std::string& assignment) {
  return ("\n" + message + "\n").find("\n" + assignment) != std::string::npos;
}

size_t count_with(const std::vector<std::string>& ms, const std::string& assignment,
                  size_t from = 0) {
  size_t n = 0;
  for (size_t i = from; i < ms.size(); ++i) n += has(ms[i], assignment) ? 1 : 0;
  return n;
}

// Free ports for every listener, so the test never waits for another one's.
EnvOverrides service_env(const FakeNotifySocket& notify) {
  return {{"NOTIFY_SOCKET", notify.path()},
          {"VESPID_LISTEN_API_PORT", std::to_string(pick_free_port())},
          {"VESPID_LISTEN_WS_PORT", std::to_string(pick_free_port())},
          {"VESPID_LISTEN_BRIDGE_PORT", std::to_string(pick_free_port())},
          {"VESPID_LISTEN_WEB_PORT", std::to_string(pick_free_port())}};
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

#ifndef VESPID_HAVE_LIBSYSTEMD
#define REQUIRE_LIBSYSTEMD() \
  VESPID_SKIP_UNLESS_CI("this gateway was built without libsystemd (libsystemd-dev)")
#else
#define REQUIRE_LIBSYSTEMD() (void)0
#endif

TEST(ServiceNotify, ReadyThenWatchdogPingsThenStopping) {
  REQUIRE_LIBSYSTEMD();
  TempDir dir;
  FakeNotifySocket notify(dir.file("notify"));
  auto env = service_env(notify);
  env["WATCHDOG_USEC"] = "300000";  // pings every 150 ms
  GatewayProcess gw;
  gw.start(dir.file("state"), {}, env);

  ASSERT_TRUE(notify.read_until([](const auto& ms) { return count_with(ms, "READY=1") > 0; }, 20s))
      << notify.all() << gw.log_text();
  const auto& ms = notify.messages();
  EXPECT_TRUE(has(ms.front(), "STATUS=starting")) << notify.all();
  size_t ready_at = 0;
  while (!has(ms[ready_at], "READY=1")) ++ready_at;
  EXPECT_TRUE(has(ms[ready_at], "STATUS=ready: ")) << notify.all();
  EXPECT_EQ(count_with(ms, "WATCHDOG=1", 0), count_with(ms, "WATCHDOG=1", ready_at))
      << "no keep-alive before the gateway is ready\n"
      << notify.all();
  // READY=1 means it serves: the admin socket answers at once, without a retry loop.
  auto client = cli::OperatorClient::connect(gw.socket_path());
  EXPECT_EQ(client.call("health")["ok"], true);
  client.close();

  const auto pings_from = Clock::now();
  ASSERT_TRUE(notify.read_until(
      [&](const auto& m) { return count_with(m, "WATCHDOG=1", ready_at) >= 4; }, 5s))
      << notify.all();
  // Four pings at 150 ms take about 450 ms; well under the 300 ms interval each, or systemd
  // would have killed it. A loose bound: this machine is shared.
  EXPECT_LT(Clock::now() - pings_from, 3s) << notify.all();
  EXPECT_TRUE(has(notify.messages().back(), "STATUS=ready: ")) << notify.all();

  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
  EXPECT_TRUE(notify.read_until([](const auto& m) { return count_with(m, "STOPPING=1") > 0; }, 2s))
      << notify.all();
  EXPECT_TRUE(notify.read_until(
      [](const auto& m) { return count_with(m, "STATUS=shutting down (SIGTERM)") > 0; }, 1s))
      << notify.all();
}

TEST(ServiceNotify, NoWatchdogPingsForAnotherProcessesWatchdog) {
  REQUIRE_LIBSYSTEMD();
  TempDir dir;
  FakeNotifySocket notify(dir.file("notify"));
  auto env = service_env(notify);
  env["WATCHDOG_USEC"] = "200000";
  env["WATCHDOG_PID"] = "1";  // inherited from a parent: not ours to feed
  GatewayProcess gw;
  gw.start(dir.file("state"), {}, env);
  ASSERT_TRUE(notify.read_until([](const auto& ms) { return count_with(ms, "READY=1") > 0; }, 20s))
      << notify.all() << gw.log_text();
  notify.read_until([](const auto&) { return false; }, 500ms);
  EXPECT_EQ(count_with(notify.messages(), "WATCHDOG=1"), 0u) << notify.all();
  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
}

TEST(ServiceNotify, SighupAppliesLogLevelsAndNamesWhatNeedsARestart) {
  REQUIRE_LIBSYSTEMD();
  TempDir dir;
  FakeNotifySocket notify(dir.file("notify"));
  const std::string cfg = dir.file("vespid.json");
  write_file(cfg, R"({"log": {"level": "info"}})");
  GatewayProcess gw;
  gw.start(dir.file("state"), {"--config", cfg}, service_env(notify));
  ASSERT_TRUE(notify.read_until([](const auto& ms) { return count_with(ms, "READY=1") > 0; }, 20s))
      << notify.all() << gw.log_text();

  write_file(cfg, R"({"log": {"level": "debug"}, "storage": {"max_batch": 7}})");
  const size_t before = notify.messages().size();
  ASSERT_EQ(::kill(gw.pid(), SIGHUP), 0);
  ASSERT_TRUE(
      notify.read_until([&](const auto& m) { return count_with(m, "READY=1", before) > 0; }, 5s))
      << notify.all() << gw.log_text();
  EXPECT_EQ(count_with(notify.messages(), "RELOADING=1", before), 1u) << notify.all();
  EXPECT_EQ(count_with(notify.messages(), "MONOTONIC_USEC=", before), 1u) << notify.all();
  // The log lines are flushed on warnings; the restart warning comes last.
  std::string log;
  for (auto until = Clock::now() + 5s; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
    log = gw.log_text();
    if (log.find("takes effect only at the next restart") != std::string::npos) break;
  }
  EXPECT_NE(log.find("log level debug applied"), std::string::npos) << log;
  EXPECT_NE(log.find("SIGHUP: storage changed as well"), std::string::npos) << log;

  // A broken file: the gateway keeps running on what it has and says so.
  write_file(cfg, R"({"log": {"level": 5}})");
  ASSERT_EQ(::kill(gw.pid(), SIGHUP), 0);
  for (auto until = Clock::now() + 5s; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
    log = gw.log_text();
    if (log.find("configuration not reloaded") != std::string::npos) break;
  }
  EXPECT_NE(log.find("configuration not reloaded, the running one stays"), std::string::npos)
      << log;
  EXPECT_TRUE(gw.running());
  auto client = cli::OperatorClient::connect(gw.socket_path());
  EXPECT_EQ(client.call("health")["ok"], true);
  client.close();
  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
}

}  // namespace
}  // namespace vespid::test
