#include "backoff.hpp"

#include <algorithm>

namespace vespid::worker {

Backoff::Backoff(Duration base, Duration max, std::uint64_t seed)
    : base_(std::max(base, Duration(1))), max_(std::max(max, base_)), rng_(seed) {}

Backoff::Duration Backoff::next() {
  // 2^failures overflows quickly; once past max it makes no difference.
  const unsigned shift = std::min(failures_, 30u);
  const auto top = std::min<std::int64_t>(base_.count() * (std::int64_t{1} << shift), max_.count());
  ++failures_;
  // Never below base: a worker spinning on a dead gateway with a zero delay helps nobody.
  std::uniform_int_distribution<std::int64_t> pick(base_.count(), top);
  return Duration(pick(rng_));
}

}  // namespace vespid::worker
