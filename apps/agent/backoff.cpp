#include "backoff.hpp"

#include <algorithm>

namespace vespid::agent {

Backoff::Backoff(Duration base, Duration max, std::uint64_t seed)
    : base_(std::max(base, Duration(1))), max_(std::max(max, base_)), rng_(seed) {}

Backoff::Duration Backoff::ceiling() const {
  // 2^failures overflows quickly; once past max it makes no difference.
  const unsigned shift = std::min(failures_, 30u);
  const auto uncapped = base_.count() * (std::int64_t{1} << shift);
  return Duration(std::min<std::int64_t>(uncapped, max_.count()));
}

Backoff::Duration Backoff::next() {
  const auto top = ceiling();
  ++failures_;
  std::uniform_int_distribution<std::int64_t> pick(0, top.count());
  return Duration(pick(rng_));
}

}  // namespace vespid::agent
