// vsp::LineFramer: the input side of a transport that frames messages as lines (one message,
// then '\n'), as the bridge and unix transports and the tcp-lines example do. Bytes in, whole
// lines out: one line per '\n', empty lines skipped (keep-alives from hand-typed sessions), a
// trailing '\r' stripped unless the transport keeps it. Only an unterminated tail is buffered, so
// an idle connection holds no input memory, and a buffer that grew for one big line is released
// once that line is out. A line longer than the limit is refused as soon as that is certain,
// before its '\n' arrives, so a peer cannot make the framer buffer without bound.
//
// Threading: none of its own. One framer belongs to one connection and is fed by the thread that
// reads that connection's socket.
//
//   vsp::LineFramer framer(max_line_bytes);
//   auto r = framer.feed(buf, n, [&](std::string_view line) {
//     return host.api()->conn_recv(conn, line.data(), line.size()) != VSP_E_CLOSED;
//   });
//   if (r == vsp::LineFramer::Result::overflow) { /* conn_protocol_error, stop reading */ }
#ifndef VESPID_LINE_FRAMER_HPP
#define VESPID_LINE_FRAMER_HPP

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace vsp {

class LineFramer {
 public:
  enum class Result {
    ok,        // every whole line was delivered; a partial tail (if any) is buffered
    stopped,   // on_line returned false: the rest of this input was dropped
    overflow,  // a line is longer than max_line_bytes: the framer is unusable from here on
  };

  // What happens to a '\r' before the '\n'. Stripping it lets CRLF peers (telnet, some
  // terminals) through; it also does not count against the limit.
  enum class Cr { strip, keep };

  explicit LineFramer(std::size_t max_line_bytes, Cr cr = Cr::strip)
      : max_(max_line_bytes), strip_cr_(cr == Cr::strip) {}

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

  // The unterminated line held back (never over the limit). Valid until the next feed or reset.
  std::string_view partial() const noexcept { return partial_; }
  // Bytes of an unterminated line held back.
  std::size_t buffered() const noexcept { return partial_.size(); }
  std::size_t capacity() const noexcept { return partial_.capacity(); }

  // Drops any partial line and its memory.
  void reset() noexcept { std::string().swap(partial_); }

 private:
  // A buffer this size or smaller is kept for the next partial line; a bigger one is freed.
  static constexpr std::size_t kKeepCapacity = 1024;

  bool ends_in_cr(const char* s, std::size_t len) const noexcept {
    return strip_cr_ && len > 0 && s[len - 1] == '\r';
  }

  template <class OnLine>
  Result emit(const char* s, std::size_t len, OnLine& on_line) {
    if (ends_in_cr(s, len)) --len;
    if (len > max_) return Result::overflow;
    if (len == 0) return Result::ok;  // keep-alive blank line
    return on_line(std::string_view(s, len)) ? Result::ok : Result::stopped;
  }

  // Buffers an unterminated tail, refusing it as soon as it is certainly too long (a last '\r'
  // may still be stripped, so it does not count yet).
  Result keep_tail(const char* p, std::size_t n, bool append) {
    const std::size_t total = (append ? partial_.size() : 0) + n;
    const std::size_t effective = total - (ends_in_cr(p, n) ? 1 : 0);
    if (effective > max_) return Result::overflow;
    if (append) {
      partial_.append(p, n);
    } else {
      // A line that did not end within this read is likely a large one still arriving: room
      // for as much again (within the limit), so that its next piece does not move this one.
      partial_.reserve(std::min(max_ + 1, 2 * n));
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
  bool strip_cr_;
};

}  // namespace vsp

#endif  // VESPID_LINE_FRAMER_HPP
