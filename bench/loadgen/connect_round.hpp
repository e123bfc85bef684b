// What the bridge and /ws fleets share when they connect many nodes at once: the tallies of one
// connect round (touched from every client thread), the throttle on connects in flight, the wait
// for every node to be online or refused, and closing every member on its own thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "clock.hpp"

namespace vespid::bench {

struct ConnectStats {
  std::size_t wanted = 0;
  std::size_t online = 0;   // hello-ok (bridge) or 101 (ws) received
  std::size_t refused = 0;  // connect failed, error frame, or closed before online
  double first_s = 0;       // from the start to the first node online
  double all_s = 0;         // from the start to the last node online (or the timeout)
  std::vector<std::pair<std::string, std::size_t>> reasons;  // why refused, counted
};

struct ConnectRound {
  std::atomic<std::size_t> refused{0};
  std::atomic<std::size_t> connecting{0};
  std::atomic<uint64_t> first_ok_ns{0};
  std::atomic<uint64_t> last_ok_ns{0};
  std::mutex mu;
  std::map<std::string, std::size_t> reasons;

  void refuse(const std::string& why) {
    refused.fetch_add(1);
    std::lock_guard lock(mu);
    ++reasons[why];
  }

  // A node came online now: the first and last times of the round.
  void online_now() {
    const uint64_t now = now_ns();
    uint64_t zero = 0;
    first_ok_ns.compare_exchange_strong(zero, now);
    uint64_t last = last_ok_ns.load();
    while (last < now && !last_ok_ns.compare_exchange_weak(last, now)) {
    }
  }

  // Before starting one more connect: waits while `max_connecting` (0: no limit) are in flight.
  void throttle(std::size_t max_connecting) const {
    while (max_connecting > 0 && connecting.load() >= max_connecting) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

  // Waits until all `wanted` nodes are online (counted by `online` from `online_before`) or
  // refused, or until `deadline`; then the round's figures.
  ConnectStats finish(const std::atomic<std::size_t>& online, std::size_t online_before,
                      std::size_t wanted, uint64_t start, uint64_t deadline) {
    while (online.load() - online_before + refused.load() < wanted && now_ns() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ConnectStats st;
    st.wanted = wanted;
    st.online = online.load() - online_before;
    st.refused = refused.load();
    const uint64_t first = first_ok_ns.load(), last = last_ok_ns.load();
    st.first_s = first ? (first - start) / 1e9 : 0;
    st.all_s = st.online == st.wanted && last ? (last - start) / 1e9 : (now_ns() - start) / 1e9;
    std::lock_guard lock(mu);
    for (auto& [k, v] : reasons) st.reasons.emplace_back(k, v);
    return st;
  }
};

// Closes every member's connection on its own I/O thread and waits for all; then forgets them.
template <class Member>
void close_members(std::vector<std::shared_ptr<Member>>& members) {
  std::atomic<std::size_t> done{0};
  for (auto& m : members) {
    boost::asio::post(m->io, [m, &done] {
      if (m->conn) m->conn->close();
      ++done;
    });
  }
  while (done.load() < members.size()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  members.clear();
}

}  // namespace vespid::bench
