#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace vespid::bench {

Histogram::Histogram() : counts_(kSub + (64 - kSubBits) * kSub, 0) {}

std::size_t Histogram::index(uint64_t v) noexcept {
  if (v < kSub) return static_cast<std::size_t>(v);
  const int magnitude = 63 - std::countl_zero(v);  // >= kSubBits
  const int shift = magnitude - kSubBits;
  const std::size_t sub = static_cast<std::size_t>(v >> shift) - kSub;
  return kSub + static_cast<std::size_t>(shift) * kSub + sub;
}

uint64_t Histogram::upper_bound(std::size_t idx) noexcept {
  if (idx < kSub) return idx;
  const std::size_t k = idx - kSub;
  const int shift = static_cast<int>(k / kSub);
  const uint64_t lower = static_cast<uint64_t>(kSub + k % kSub) << shift;
  return lower + ((uint64_t{1} << shift) - 1);
}

void Histogram::record(uint64_t ns) {
  ++counts_[index(ns)];
  ++count_;
  sum_ += ns;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

uint64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  // The rank of the value wanted, 1-based: p=50 of 4 values is the 2nd.
  const auto rank =
      static_cast<uint64_t>(std::max(1.0, std::ceil(p / 100.0 * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(upper_bound(i), max_);
  }
  return max_;
}

}  // namespace vespid::bench
