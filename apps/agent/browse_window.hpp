// How long a one-shot browse listens, the same for every backend (mdns_browse_avahi.cpp,
// mdns_browse_dnssd.cpp): answers to a multicast query trickle in, so the whole window is used;
// resolutions still running at its end get a short grace, so a service seen late is not
// half-reported. Pure: the caller passes the time, so the policy is unit-tested without a clock.
#pragma once

#include <chrono>
#include <optional>

namespace vespid::agent {

class BrowseWindow {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kGrace{1000};

  BrowseWindow(Clock::time_point start, std::chrono::milliseconds timeout)
      : deadline_(start + timeout), grace_end_(deadline_ + kGrace) {}

  // How long to wait for the next answer (rounded up, so a wait never ends just short of the
  // deadline), or nullopt when the browse is over: the window has passed and nothing is being
  // resolved any more, or the grace has passed too.
  std::optional<std::chrono::milliseconds> next_wait(Clock::time_point now, int resolving) const {
    const auto until = now < deadline_ ? deadline_ : grace_end_;
    if (now >= until || (now >= deadline_ && resolving == 0)) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(until - now) +
           std::chrono::milliseconds(1);
  }

 private:
  Clock::time_point deadline_, grace_end_;
};

}  // namespace vespid::agent
