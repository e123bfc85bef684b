#include "runtime/metrics.hpp"

#include <charconv>
#include <cmath>

namespace vespid::metrics {

size_t this_threads_stripe() noexcept {
  static std::atomic<size_t> next{0};
  // Constant-initialised, so reading it costs no thread-local initialisation call.
  thread_local size_t stripe = kStripes;
  if (stripe == kStripes) stripe = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
  return stripe;
}

Histogram::Histogram(std::span<const double> bounds) noexcept {
  n_ = bounds.size() < kMaxBounds ? bounds.size() : kMaxBounds;
  for (size_t i = 0; i < n_; ++i) bounds_[i] = bounds[i];
}

namespace {

// Label values escape backslash, double quote and line feed; HELP text backslash and line feed.
void escaped(std::string& out, std::string_view s, bool quotes) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

void TextWriter::family(std::string_view name, std::string_view help, std::string_view type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void TextWriter::head(std::string_view name, Labels labels, std::string_view extra_name,
                      std::string_view extra_value) {
  out_ += name;
  if (labels.empty() && extra_name.empty()) {
    out_ += ' ';
    return;
  }
  out_ += '{';
  bool first = true;
  auto one = [&](std::string_view k, std::string_view v) {
    if (!first) out_ += ',';
    first = false;
    out_ += k;
    out_ += "=\"";
    escaped(out_, v, true);
    out_ += '"';
  };
  for (const auto& [k, v] : labels) one(k, v);
  if (!extra_name.empty()) one(extra_name, extra_value);
  out_ += "} ";
}

void TextWriter::number(double v) {
  if (std::isnan(v)) {
    out_ += "NaN";
  } else if (std::isinf(v)) {
    out_ += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back as v
    out_.append(buf, r.ptr);
  }
}

void TextWriter::number(uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
}

void TextWriter::number(int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
}

void TextWriter::sample(std::string_view name, Labels labels, double value) {
  head(name, labels);
  number(value);
  out_ += '\n';
}

void TextWriter::sample(std::string_view name, Labels labels, uint64_t value) {
  head(name, labels);
  number(value);
  out_ += '\n';
}

void TextWriter::sample(std::string_view name, Labels labels, int64_t value) {
  head(name, labels);
  number(value);
  out_ += '\n';
}

void TextWriter::histogram(std::string_view name, Labels labels, const Histogram& h) {
  std::string bucket(name);
  bucket += "_bucket";
  uint64_t cumulative = 0;
  const auto bounds = h.bounds();
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += h.bucket(i);
    std::string le;
    if (i < bounds.size()) {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, bounds[i]);
      le.assign(buf, r.ptr);
    } else {
      le = "+Inf";
    }
    head(bucket, labels, "le", le);
    number(cumulative);
    out_ += '\n';
  }
  std::string sum(name);
  sum += "_sum";
  head(sum, labels);
  number(h.sum());
  out_ += '\n';
  std::string count(name);
  count += "_count";
  head(count, labels);
  number(cumulative);
  out_ += '\n';
}

}  // namespace vespid::metrics
