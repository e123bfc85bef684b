#include "runtime/service_notify.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#ifdef VESPID_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "runtime/logging.hpp"

namespace vespid::core {

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

ServiceNotifier::ServiceNotifier() {
#ifdef VESPID_HAVE_LIBSYSTEMD
  const char* socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket != nullptr && *socket != '\0';
  uint64_t usec = 0;
  // > 0 only when $WATCHDOG_USEC is set and $WATCHDOG_PID (if set) is this process: a child
  // that inherited the variables must not ping on its parent's behalf.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = std::chrono::milliseconds(std::max<uint64_t>(usec / 2000, 1));
  }
#endif
}

void ServiceNotifier::send(const std::string& message) const {
  if (!active_) return;
#ifdef VESPID_HAVE_LIBSYSTEMD
  // 0: keep $NOTIFY_SOCKET, later messages need it. A failed send is logged at debug only: a
  // manager that went away must not flood the log with a line per watchdog ping.
  if (int rc = sd_notify(0, message.c_str()); rc < 0) {
    log::get("core")->debug("sd_notify failed: {}", rc);
  }
#else
  (void)message;
#endif
}

void ServiceNotifier::ready(const std::string& status) const {
  send("READY=1\nSTATUS=" + one_line(status));
}

void ServiceNotifier::status(const std::string& status) const {
  send("STATUS=" + one_line(status));
}

void ServiceNotifier::stopping(const std::string& status) const {
  send("STOPPING=1\nSTATUS=" + one_line(status));
}

void ServiceNotifier::reloading() const {
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(now.count()));
}

void ServiceNotifier::watchdog(const std::string& status) const {
  if (status.empty()) {
    send("WATCHDOG=1");
  } else {
    send("WATCHDOG=1\nSTATUS=" + one_line(status));
  }
}

}  // namespace vespid::core
