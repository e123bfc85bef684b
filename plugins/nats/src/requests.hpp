// The requests waiting for a reply: each one's callback, called exactly once with the first
// reply, VSP_E_NOT_FOUND (no responders), VSP_E_TIMEOUT (its own thread watches the deadlines)
// or VSP_E_CLOSED (the connection was lost, or the bus stops).
#pragma once

#include <vespid/bus.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace vespid::natsbus {

class Requests {
 public:
  Requests();
  ~Requests();  // fails what is left with VSP_E_CLOSED
  Requests(const Requests&) = delete;
  Requests& operator=(const Requests&) = delete;

  // Registers a request; its id goes at the end of its reply subject.
  uint64_t add(vsp_bus_reply_fn fn, void* ctx, std::chrono::milliseconds timeout);
  // Completes request `id` if it is still waiting (a late or second reply finds nothing).
  void complete(uint64_t id, int status, const uint8_t* data, size_t len);
  // Forgets a request whose message could not be sent; its callback is not called. False when
  // it was no longer waiting (its callback ran or is running).
  bool cancel(uint64_t id);
  // Completes every waiting request with `status`.
  void fail_all(int status);

 private:
  using Clock = std::chrono::steady_clock;
  using Deadlines = std::multimap<Clock::time_point, uint64_t>;
  struct Pending {
    vsp_bus_reply_fn fn;
    void* ctx;
    Deadlines::iterator deadline;  // into deadlines_, erased with the request
  };
  // Under mu_: the request's entry out of pending_ and its deadline out of deadlines_.
  Pending take_locked(std::map<uint64_t, Pending>::iterator it);
  void watch_deadlines();

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t next_id_ = 0;
  std::map<uint64_t, Pending> pending_;
  // Only the requests still waiting: the thread sleeps until the earliest of those, not until
  // each answered request's deadline has passed as well.
  Deadlines deadlines_;
  std::thread thread_;
};

}  // namespace vespid::natsbus
