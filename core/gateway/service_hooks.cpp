// The gateway as a service: what it tells the service manager (sd_notify: readiness, status,
// watchdog) and what it does on SIGHUP.
//
// SIGHUP re-reads the configuration but applies only the log levels. Everything else (listeners,
// plugin instances, storage, limits) is wired into objects built once at start-up; rebuilding
// them under live connections is a restart in all but name, so the unit restarts for those and
// the log says which sections changed instead of pretending they took effect.
#include <set>

#include "gateway/gateway.hpp"
#include "runtime/logging.hpp"

namespace vespid::core {

namespace {

std::shared_ptr<spdlog::logger> L() {
  return log::get("core");
}

// Top-level sections whose value differs, "log" compared without its levels (applied live).
std::vector<std::string> sections_needing_restart(const nlohmann::json& before,
                                                  const nlohmann::json& after) {
  std::set<std::string> keys;
  for (const auto& [k, v] : before.items()) keys.insert(k);
  for (const auto& [k, v] : after.items()) keys.insert(k);
  std::vector<std::string> changed;
  for (const auto& k : keys) {
    const nlohmann::json a = before.value(k, nlohmann::json());
    const nlohmann::json b = after.value(k, nlohmann::json());
    if (k == "log") {
      if (a.value("format", "") != b.value("format", "")) changed.push_back("log.format");
    } else if (a != b) {
      changed.push_back(k);
    }
  }
  return changed;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

}  // namespace

std::string Gateway::service_status() const {
  const size_t nodes = router_ ? router_->connected_count() : 0;
  std::string text = "ready: ";
  text += std::to_string(hub_ ? hub_->open_count() : 0);
  text += " connection(s), ";
  text += std::to_string(nodes);
  text += " bridge node(s) online, ";
  text += std::to_string(instances_.size());
  text += " plugin instance(s)";
  return text;
}

void Gateway::announce_ready() {
  notifier_.ready(service_status());
  const auto every = notifier_.watchdog_interval();
  if (every.count() == 0) return;
  // The ping goes through the sequencer from a loop timer, so it is sent only while both the
  // loop thread turns and the core is not stuck in a handler: a wedged gateway misses its pings
  // and systemd restarts it (WatchdogSec=, Restart=on-failure).
  watchdog_timer_ = loop_.make_timer(
      [this] { loop_.sequencer().execute([this] { notifier_.watchdog(service_status()); }); });
  watchdog_timer_->arm(std::chrono::milliseconds(0), every);
  L()->info("systemd watchdog: a keep-alive every {} ms", every.count());
}

void Gateway::watch_reload_signal() {
  if (!reload_signal_)
    reload_signal_ = std::make_unique<boost::asio::signal_set>(loop_.io(), SIGHUP);
  reload_signal_->async_wait([this](const boost::system::error_code& ec, int) {
    if (ec || shutting_down_) return;
    reload();
    watch_reload_signal();
  });
}

void Gateway::reload() {
  if (!reloader_) {
    L()->warn("SIGHUP: this gateway has no way to re-read its configuration; ignored");
    return;
  }
  notifier_.reloading();
  try {
    config::GatewayConfig next = reloader_();
    log::set_levels(next.log_level, next.log_components);
    L()->info("SIGHUP: configuration re-read from {}; log level {} applied", next.source,
              next.log_level);
    const auto changed = sections_needing_restart(loaded_effective_, next.effective);
    if (!changed.empty()) {
      L()->warn("SIGHUP: {} changed as well; that takes effect only at the next restart",
                joined(changed));
    }
  } catch (const std::exception& e) {
    // The running configuration stays; one line per problem, as at start.
    L()->error("SIGHUP: configuration not reloaded, the running one stays: {}", e.what());
  }
  notifier_.ready(service_status());
}

}  // namespace vespid::core
