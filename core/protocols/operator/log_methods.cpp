#include "protocols/operator/log_methods.hpp"

#include <unordered_map>

#include "host/connections/connection.hpp"
#include "protocols/operator/operator_dialect.hpp"
#include "protocols/params.hpp"
#include "runtime/api_error.hpp"
#include "runtime/log_tail.hpp"
#include "runtime/time.hpp"
#include "services/identity/org_access.hpp"

namespace vespid::core {

using nlohmann::json;

namespace {

constexpr int64_t kDefaultLimit = 200;

json line_json(const log::TailLine& l) {
  return {{"ts", util::iso8601(l.ts_ms)},
          {"level", l.level},
          {"component", l.component},
          {"message", l.message}};
}

// The connections following the log, and the delivery of new lines to them. Thread: the
// Sequencer, except wake(), which the sink calls on any thread.
class LogFeed : public std::enable_shared_from_this<LogFeed> {
 public:
  explicit LogFeed(LogMethodServices s) : s_(std::move(s)) {}
  ~LogFeed() {
    if (s_.tail) s_.tail->set_live({});
  }

  Task<CallResult> tail(CallContext c, json p) {
    int64_t limit = params::optional_int(p, "limit", kDefaultLimit);
    if (limit < 0) throw api::invalid("params.limit must be 0 or more", {{"param", "limit"}});
    Task<void> check = auth::require_gateway_admin(s_.repo, c.principal, "read the gateway's log");
    co_await std::move(check);
    if (!s_.tail) {
      throw api::unavailable(
          "the gateway keeps no log lines in memory (log.tail_lines is 0); read its stderr or "
          "journal instead");
    }
    json lines = json::array();
    for (const auto& l : s_.tail->last(static_cast<size_t>(limit))) lines.push_back(line_json(l));
    if (c.conn) {
      const bool first = following_.empty();
      following_[c.conn->id()] = c.conn;
      if (first) start_live();
    }
    co_return CallResult{{{"lines", lines}, {"following", c.conn != nullptr}}, std::nullopt};
  }

  Task<CallResult> untail(CallContext c, json p) {
    (void)p;
    const bool was = c.conn && following_.erase(c.conn->id()) > 0;
    if (following_.empty() && s_.tail) s_.tail->set_live({});
    co_return CallResult{{{"stopped", was}}, std::nullopt};
  }

 private:
  void start_live() {
    std::weak_ptr<LogFeed> weak = weak_from_this();
    auto post = s_.post_core;
    // Runs inside the sink, under its lock: only hands the work on.
    s_.tail->set_live([weak, post] {
      post([weak] {
        if (auto feed = weak.lock()) feed->deliver();
      });
    });
  }

  void deliver() {
    log::LogTail::Batch batch = s_.tail->take();
    uint64_t dropped = batch.dropped;
    for (auto it = following_.begin(); it != following_.end();) {
      auto conn = it->second.lock();
      const EventAudience* a = conn ? s_.ops.audience_of(*conn) : nullptr;
      // Gone, demoted, or no longer a gateway administrator (the cached flag is refreshed when
      // the local admin changes it): it stops following.
      if (!conn || conn->gone || a == nullptr || conn->principal.role == Role::Anonymous ||
          !(a->local_admin || a->gateway_admin)) {
        it = following_.erase(it);
        continue;
      }
      ++it;
      bool first = true;
      for (const auto& l : batch.lines) {
        json event = line_json(l);
        if (first && dropped > 0) event["dropped"] = dropped;
        first = false;
        s_.ops.send_event(*conn, "log", event);
      }
    }
    if (following_.empty()) s_.tail->set_live({});
  }

  LogMethodServices s_;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> following_;
};

}  // namespace

void register_log_methods(MethodTable& table, LogMethodServices services) {
  auto feed = std::make_shared<LogFeed>(std::move(services));
  const std::set<Role> people = {Role::Operator, Role::LocalAdmin};
  table.add({"logs.tail", people,
             "The gateway's last log lines {limit?} (200 by default), then each new line as a "
             "`log` event until logs.untail or close. Gateway administrators and the local admin.",
             [feed](CallContext c, json p) { return feed->tail(std::move(c), std::move(p)); }});
  table.add({"logs.untail", people, "Stops the `log` events of logs.tail.",
             [feed](CallContext c, json p) { return feed->untail(std::move(c), std::move(p)); }});
}

}  // namespace vespid::core
