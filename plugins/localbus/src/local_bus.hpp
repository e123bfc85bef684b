// The in-process bus: one FIFO of messages and one delivery thread per instance.
//
// Publishing only queues (bounded by max_queued_bytes), so it never blocks and never runs a
// subscriber on the publisher's thread. The delivery thread takes messages in order, matches
// them against the subscriptions, picks one member per queue group (round robin), and calls the
// subscribers one after another. One thread for everything gives the ordering the ABI asks for
// for free: a subscription is never called twice at once, and messages arrive in publish order.
// The same thread fires request timeouts.
#pragma once

#include <vespid/bus.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config.hpp"

namespace vespid::localbus {

class LocalBus {
 public:
  explicit LocalBus(Config cfg);
  ~LocalBus();
  LocalBus(const LocalBus&) = delete;
  LocalBus& operator=(const LocalBus&) = delete;

  // Starts the delivery thread.
  void start();
  // Refuses new work, drops what is queued, fails every waiting request with VSP_E_CLOSED and
  // joins the delivery thread. Not from the delivery thread itself.
  void stop();
  bool running() const;

  // The ABI's functions (vespid/bus.h); each throws vsp::Error to refuse.
  void publish(std::string_view subject, std::string_view reply_to, std::string_view data);
  uint64_t subscribe(std::string_view pattern, std::string_view group, vsp_bus_msg_fn fn,
                     void* ctx);
  void unsubscribe(uint64_t handle);
  void request(std::string_view subject, std::string_view data, uint32_t timeout_ms,
               vsp_bus_reply_fn fn, void* ctx);

 private:
  using Clock = std::chrono::steady_clock;

  struct Item {
    std::string subject, reply_to, data;
    uint64_t request = 0;  // the local request that sent it: answers "no responders" at once
    size_t bytes() const { return subject.size() + reply_to.size() + data.size(); }
  };
  struct Sub {
    uint64_t id;
    std::string pattern, group;
    vsp_bus_msg_fn fn;
    void* ctx;
  };
  struct Pending {
    vsp_bus_reply_fn fn;
    void* ctx;
    std::string inbox;
    Clock::time_point deadline;
  };
  // A callback to run once the lock is released.
  struct Completion {
    vsp_bus_reply_fn fn;
    void* ctx;
    int status;
    std::string data;
  };

  void run();
  // Under mu_: queues `item` or throws.
  void enqueue_locked(Item item);
  void check_size(std::string_view subject, std::string_view data) const;
  // Under mu_: who gets `item` (one per queue group), and the request it completes.
  std::vector<std::shared_ptr<Sub>> route_locked(const Item& item, std::vector<Completion>& done);
  void expire_locked(Clock::time_point now, std::vector<Completion>& done);
  Completion take_request_locked(uint64_t id, int status, std::string data);
  void deliver(const std::shared_ptr<Sub>& sub, const Item& item);

  const Config cfg_;
  const std::string inbox_prefix_;  // "_INBOX.<random>.", unique to this instance

  mutable std::mutex mu_;
  std::condition_variable wake_;       // the delivery thread: work, stop
  std::condition_variable delivered_;  // unsubscribe: the running call returned
  bool running_ = false;
  bool stopping_ = false;
  std::thread thread_;
  std::thread::id delivery_thread_;

  std::deque<Item> queue_;
  uint64_t queued_bytes_ = 0;

  uint64_t next_sub_ = 0;
  std::map<uint64_t, std::shared_ptr<Sub>> subs_;
  std::unordered_map<std::string, std::vector<uint64_t>> exact_;  // pattern without wildcards
  std::vector<uint64_t> wild_;                                    // patterns with wildcards
  std::unordered_map<std::string, uint64_t> group_turn_;          // round robin per group
  uint64_t delivering_ = 0;  // the subscription whose fn runs now, 0 for none

  uint64_t next_request_ = 0;
  std::map<uint64_t, Pending> requests_;
  std::unordered_map<std::string, uint64_t> inboxes_;     // inbox subject -> request
  std::multimap<Clock::time_point, uint64_t> deadlines_;  // may hold requests already done
};

}  // namespace vespid::localbus
