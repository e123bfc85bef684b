// Delays between attempts at a gateway that does not answer: exponential backoff with jitter,
// as vespid-agent's reconnects (apps/agent/backoff.hpp), so workers that lost the same gateway
// do not come back at the same instant. The n-th consecutive failure waits a uniformly random
// time in [base, min(max, base * 2^n)]; unlike the agent's full jitter it never waits less
// than base. One per thread; not shared.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace vespid::worker {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;

  explicit Backoff(Duration base = Duration(500), Duration max = Duration(30'000),
                   std::uint64_t seed = std::random_device{}());

  // The delay before the next attempt; counts one more failure.
  Duration next();
  void reset() { failures_ = 0; }
  unsigned failures() const { return failures_; }

 private:
  Duration base_, max_;
  unsigned failures_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace vespid::worker
