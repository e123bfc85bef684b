// host::Bus over the one bus plugin instance a gateway runs (vespid/bus.h): drives its lifecycle,
// turns the C callbacks into the facade's std::functions, and keeps what each subscription and
// request lends the plugin alive exactly as long as the ABI says.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "host/bus/bus.hpp"
#include "vespid/vespid.h"

namespace vespid::core {
class PluginInstance;
}

namespace vespid::host {

class PluginBus final : public Bus {
 public:
  // `instance` is a bus-kind instance that has not been created yet; it must outlive this.
  explicit PluginBus(core::PluginInstance& instance);
  // Stops (with a short timeout) if still running.
  ~PluginBus() override;
  PluginBus(const PluginBus&) = delete;
  PluginBus& operator=(const PluginBus&) = delete;

  // Loop thread: create, set_state_callback, start. Throws std::runtime_error with the plugin's
  // message ("nats: cannot connect to ...") when it does not start; nothing is left running.
  void start();
  // Loop thread: ends every subscription still open, stops the plugin (waiting up to `timeout`
  // for its done; a plugin that does not finish is not destroyed) and destroys it. Idempotent.
  void stop(std::chrono::milliseconds timeout);
  bool started() const noexcept { return started_; }

  // publish() with the plugin's status and message, for callers that need to know why (tests).
  // Does not log.
  int try_publish(std::string_view subject, std::string_view data, std::string_view reply_to,
                  std::string* why);

  const std::string& instance_name() const noexcept;

  // Bus
  bool publish(std::string_view subject, std::string_view data,
               std::string_view reply_to = {}) override;
  SubscriptionId subscribe(std::string pattern, std::string queue_group, Handler h) override;
  void unsubscribe(SubscriptionId id) override;
  void request(std::string_view subject, std::string_view data, std::chrono::milliseconds timeout,
               std::function<void(BusReply)> done) override;
  bool up() const override;
  void on_state(std::function<void(bool up, std::string_view reason)> fn) override;
  std::string_view plugin_name() const override;

 private:
  struct Sub;
  struct Req;
  class CallGuard;
  using StateFn = std::function<void(bool, std::string_view)>;

  static void deliver(void* ctx, const vsp_bus_msg* msg);
  static void replied(void* ctx, int status, const uint8_t* data, size_t len);
  static void state_changed(void* ctx, int up, const char* reason);
  void log_refusal(int status, std::string_view subject, const std::string& why);

  core::PluginInstance& inst_;
  const vsp_bus_vtbl& vtbl_;
  bool started_ = false;  // loop thread

  // Calls into the plugin under way (CallGuard), and whether new ones may begin.
  mutable std::atomic<bool> running_{false};
  mutable std::atomic<int> calls_{0};
  mutable std::mutex calls_mu_;
  mutable std::condition_variable calls_cv_;

  std::mutex mu_;  // guards subs_, state_fn_, the refusal log's counters
  std::map<SubscriptionId, std::unique_ptr<Sub>> subs_;
  std::shared_ptr<StateFn> state_fn_;
  std::chrono::steady_clock::time_point last_refusal_log_{};
  uint64_t refusals_unlogged_ = 0;
};

}  // namespace vespid::host
