// Talking to the service manager that started the gateway (systemd's sd_notify(3) protocol):
// readiness, a one-line status, that it is stopping, and watchdog keep-alives.
//
// Everything is a no-op when the gateway was not started by a service manager ($NOTIFY_SOCKET
// unset) or was built without libsystemd, so callers never need to ask first.
#pragma once

#include <chrono>
#include <string>

namespace vespid::core {

class ServiceNotifier {
 public:
  // Reads $NOTIFY_SOCKET and the watchdog variables once.
  ServiceNotifier();

  // Is anyone listening? False without $NOTIFY_SOCKET or without libsystemd.
  bool active() const noexcept { return active_; }

  // READY=1 with a status line: the gateway serves (Type=notify units start their dependants).
  void ready(const std::string& status) const;
  // STATUS=...: what `systemctl status` shows under the unit.
  void status(const std::string& status) const;
  // STOPPING=1: the gateway has begun its drain; systemd expects the exit next.
  void stopping(const std::string& status) const;
  // RELOADING=1 (with the monotonic time systemd 253+ asks for): re-reading the configuration;
  // ready() again when done.
  void reloading() const;
  // WATCHDOG=1, with a status line when `status` is not empty (one datagram for both).
  void watchdog(const std::string& status = {}) const;

  // How often to send WATCHDOG=1: half the manager's WatchdogSec (so one late ping is not
  // fatal), or zero when no watchdog was asked for (or it is meant for another process).
  std::chrono::milliseconds watchdog_interval() const noexcept { return watchdog_interval_; }

 private:
  void send(const std::string& message) const;

  bool active_ = false;
  std::chrono::milliseconds watchdog_interval_{0};
};

// "STATUS=" values are one line; a newline would start another assignment.
std::string one_line(std::string text);

}  // namespace vespid::core
