// A log-bucketed latency histogram in the style of HdrHistogram: exact below 128 ns, then 128
// sub-buckets per power of two (under 0.8% relative error), so recording is O(1) and merging
// per-thread histograms is a vector add. Values are nanoseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vespid::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr std::size_t kSub = std::size_t{1} << kSubBits;

  Histogram();

  void record(uint64_t ns);
  void merge(const Histogram& other);
  void clear();

  uint64_t count() const noexcept { return count_; }
  uint64_t min() const noexcept { return count_ ? min_ : 0; }
  uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
  // The smallest recorded bucket's upper bound at or below which `p` percent of the values fall
  // (clamped to max()); 0 when empty.
  uint64_t percentile(double p) const;

 private:
  static std::size_t index(uint64_t v) noexcept;
  static uint64_t upper_bound(std::size_t idx) noexcept;

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace vespid::bench
