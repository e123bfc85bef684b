// JSONL framing: bytes in, whole lines out. One line per '\n'; a trailing '\r' is stripped and
// empty lines are skipped. Only an unterminated tail is buffered, so an idle connection holds no
// input memory, and a buffer that grew for one big line is released once that line is out.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace vespid::bridge {

class LineFramer {
 public:
  enum class Result {
    ok,        // every whole line was delivered; a partial tail (if any) is buffered
    stopped,   // on_line returned false: the rest of this input was dropped
    overflow,  // a line is longer than max_line_bytes: the framer is unusable from here on
  };

  explicit LineFramer(std::size_t max_line_bytes) : max_(max_line_bytes) {}

  // Calls on_line(std::string_view) -> bool for every whole non-empty line in order; returning
  // false stops. The view is valid only during the call.
  template <class OnLine>
  Result feed(const char* data, std::size_t n, OnLine&& on_line) {
    if (n == 0) return Result::ok;
    const char* p = data;
    const char* const end = data + n;
    if (!partial_.empty()) {
      const auto* nl = static_cast<const char*>(std::memchr(p, '\n', n));
      if (nl == nullptr) return keep_tail(p, n, true);
      const std::size_t head = static_cast<std::size_t>(nl - p);
      if (partial_.size() + head > max_ + 1) return Result::overflow;  // even after a '\r'
      partial_.append(p, head);
      p = nl + 1;
      const Result r = emit(partial_.data(), partial_.size(), on_line);
      release();
      if (r != Result::ok) return r;
    }
    while (p < end) {
      const auto* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (nl == nullptr) return keep_tail(p, static_cast<std::size_t>(end - p), false);
      const Result r = emit(p, static_cast<std::size_t>(nl - p), on_line);
      if (r != Result::ok) return r;
      p = nl + 1;
    }
    return Result::ok;
  }

  // Bytes of an unterminated line held back.
  std::size_t buffered() const noexcept { return partial_.size(); }
  std::size_t capacity() const noexcept { return partial_.capacity(); }

  // Drops any partial line and its memory.
  void reset() noexcept { std::string().swap(partial_); }

 private:
  // A buffer this size or smaller is kept for the next partial line; a bigger one is freed.
  static constexpr std::size_t kKeepCapacity = 1024;

  template <class OnLine>
  Result emit(const char* s, std::size_t len, OnLine& on_line) {
    if (len > 0 && s[len - 1] == '\r') --len;
    if (len > max_) return Result::overflow;
    if (len == 0) return Result::ok;  // keep-alive blank line
    return on_line(std::string_view(s, len)) ? Result::ok : Result::stopped;
  }

  // Buffers an unterminated tail, refusing it as soon as it is certainly too long (a last '\r'
  // may still be stripped, so it does not count yet).
  Result keep_tail(const char* p, std::size_t n, bool append) {
    const std::size_t total = (append ? partial_.size() : 0) + n;
    const std::size_t effective = total - (p[n - 1] == '\r' ? 1 : 0);
    if (effective > max_) return Result::overflow;
    if (append) {
      partial_.append(p, n);
    } else {
      partial_.assign(p, n);
    }
    return Result::ok;
  }

  void release() noexcept {
    if (partial_.capacity() > kKeepCapacity) {
      std::string().swap(partial_);
    } else {
      partial_.clear();
    }
  }

  std::string partial_;
  std::size_t max_;
};

}  // namespace vespid::bridge
