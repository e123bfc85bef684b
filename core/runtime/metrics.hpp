// Instruments for the Prometheus endpoint (docs/metrics.md): counters, gauges and histograms
// that any thread may update, and the text exposition format (version 0.0.4) they are read in.
//
// Updating must cost nothing an invoke would notice (~15-23 µs of gateway CPU each): one relaxed
// atomic add, no lock, no allocation, no formatting. Only a scrape reads them and formats text.
// A label set is fixed when the metric is declared (an array indexed by a small enum), so no
// update ever looks a label up.
//
// What every invoke or dispatch updates is striped: each thread adds to a cache line of its own
// stripe, and a scrape adds the stripes up. One shared atomic written by the threads of two
// shards at once moves its cache line between the cores at every update; measured, that held
// two shards invoking on two cores to 1.2x one (performance.md, "Routing in shards").
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace vespid::metrics {

// The stripe this thread adds to: threads take stripes in the order they first update a
// striped instrument, round the kStripes (a core of up to that many shards writes no line twice).
inline constexpr size_t kStripes = 8;
size_t this_threads_stripe() noexcept;

class Counter {
 public:
  void inc(uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// A Counter for the hot paths (invokes, dispatches): 8 cache lines instead of 8 bytes.
class StripedCounter {
 public:
  void inc(uint64_t n = 1) noexcept {
    cells_[this_threads_stripe()].v.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const noexcept {
    uint64_t total = 0;
    for (const Cell& c : cells_) total += c.v.load(std::memory_order_relaxed);
    return total;
  }

 private:
  struct alignas(64) Cell {
    std::atomic<uint64_t> v{0};
  };
  std::array<Cell, kStripes> cells_{};
};

class Gauge {
 public:
  void add(int64_t n) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  void set(int64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  int64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// Fixed upper bounds (ascending, finite; +Inf is implied). Observations land in one bucket each;
// a scrape adds them up into Prometheus's cumulative buckets, and _count is the +Inf bucket, so
// the two always agree even when a scrape races an observation. Striped, as histograms are few
// and time what every invoke, dispatch and commit does.
class Histogram {
 public:
  static constexpr size_t kMaxBounds = 20;
  explicit Histogram(std::span<const double> bounds) noexcept;

  void observe(double v) noexcept {
    size_t i = 0;
    while (i < n_ && v > bounds_[i]) ++i;
    Stripe& s = stripes_[this_threads_stripe()];
    s.buckets[i].fetch_add(1, std::memory_order_relaxed);
    s.sum.fetch_add(v, std::memory_order_relaxed);
  }
  void observe(std::chrono::steady_clock::duration d) noexcept {
    observe(std::chrono::duration<double>(d).count());
  }

  std::span<const double> bounds() const noexcept { return {bounds_.data(), n_}; }
  // Observations in bucket i alone (i == bounds().size(): above the last bound).
  uint64_t bucket(size_t i) const noexcept {
    uint64_t total = 0;
    for (const Stripe& s : stripes_) total += s.buckets[i].load(std::memory_order_relaxed);
    return total;
  }
  double sum() const noexcept {
    double total = 0;
    for (const Stripe& s : stripes_) total += s.sum.load(std::memory_order_relaxed);
    return total;
  }

 private:
  struct alignas(64) Stripe {
    std::array<std::atomic<uint64_t>, kMaxBounds + 1> buckets{};
    std::atomic<double> sum{0.0};
  };
  std::array<double, kMaxBounds> bounds_{};
  size_t n_ = 0;
  std::array<Stripe, kStripes> stripes_{};
};

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::span<const Label>;

// Builds one exposition: each family's # HELP and # TYPE line, then its samples.
class TextWriter {
 public:
  // type: counter, gauge or histogram.
  void family(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, Labels labels, double value);
  void sample(std::string_view name, Labels labels, uint64_t value);
  void sample(std::string_view name, Labels labels, int64_t value);
  // name_bucket{...,le} (cumulative, ending with +Inf), name_sum and name_count.
  void histogram(std::string_view name, Labels labels, const Histogram& h);

  const std::string& text() const noexcept { return out_; }
  std::string take() noexcept { return std::move(out_); }

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  void head(std::string_view name, Labels labels, std::string_view extra_name = {},
            std::string_view extra_value = {});
  void number(double v);
  void number(uint64_t v);
  void number(int64_t v);
  std::string out_;
};

}  // namespace vespid::metrics
