// Reconnect delays: exponential backoff with full jitter (AWS architecture blog's "full jitter").
// The n-th consecutive failure waits a uniformly random time in [0, min(max, base * 2^n)].
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace vespid::agent {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;

  Backoff(Duration base = Duration(500), Duration max = Duration(30'000),
          std::uint64_t seed = std::random_device{}());

  // The ceiling of the next delay (before jitter): base * 2^failures, capped at max.
  Duration ceiling() const;
  // The delay to wait before the next attempt; counts one more failure.
  Duration next();
  // A connection worked: start again from base.
  void reset() { failures_ = 0; }
  unsigned failures() const { return failures_; }

 private:
  Duration base_, max_;
  unsigned failures_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace vespid::agent
