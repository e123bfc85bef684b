// vsp::LineFramer (sdk/include/vespid/line_framer.hpp): the input side of the bridge and unix
// transports. The input picks a line limit and the '\r' mode, then the byte stream and how it is
// cut into reads.
//
// Invariants, against a plain model of the framing (split at '\n', one trailing '\r' stripped
// unless kept, blank lines skipped, a line over the limit refused):
//  - the framer delivers exactly the model's lines, in order, whatever the read boundaries;
//  - no line is longer than the limit or holds a '\n';
//  - overflow is reported exactly when the model's line, or unterminated tail, is certainly too
//    long, and no later than the read that made it so;
//  - the held tail is the model's, never over the limit, and a buffer that grew for a long
//    line is given back once that line is out;
//  - a handler returning false stops delivery at once.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>
#include <vespid/line_framer.hpp>

#include "check.hpp"

namespace {

// The framing rules written the slow, obvious way.
class Model {
 public:
  Model(std::size_t max, bool strip_cr) : max_(max), strip_(strip_cr) {}

  // Feeds bytes; returns false on overflow (and stops). Lines go to `out`, up to "STOP".
  bool feed(const std::string& bytes, std::vector<std::string>& out, bool& stopped) {
    for (char c : bytes) {
      if (c != '\n') {
        tail_.push_back(c);
        continue;
      }
      std::string line = std::move(tail_);
      tail_.clear();
      if (strip_ && !line.empty() && line.back() == '\r') line.pop_back();
      if (line.size() > max_) return false;
      if (line.empty()) continue;
      out.push_back(line);
      if (line == "STOP") {
        stopped = true;
        return true;
      }
    }
    std::size_t effective = tail_.size();
    if (strip_ && effective > 0 && tail_.back() == '\r') --effective;
    return effective <= max_;
  }
  const std::string& tail() const { return tail_; }

 private:
  std::size_t max_;
  bool strip_;
  std::string tail_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  // Mostly small limits, so that refusals are common; sometimes one past the keep capacity.
  const std::size_t max = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::size_t>(0, 16)
                                           : in.ConsumeIntegralInRange<std::size_t>(0, 4096);
  const bool strip = in.ConsumeBool();
  vsp::LineFramer framer(max, strip ? vsp::LineFramer::Cr::strip : vsp::LineFramer::Cr::keep);
  Model model(max, strip);

  std::vector<std::string> got, want;
  while (in.remaining_bytes() > 0) {
    const std::string chunk =
        in.ConsumeBytesAsString(in.ConsumeIntegralInRange<std::size_t>(1, 64));
    bool model_stopped = false;
    const bool model_ok = model.feed(chunk, want, model_stopped);
    const auto r = framer.feed(chunk.data(), chunk.size(), [&](std::string_view line) {
      FUZZ_CHECK(line.size() <= max, "a line longer than the limit");
      FUZZ_CHECK(!line.empty(), "an empty line delivered");
      FUZZ_CHECK(line.find('\n') == std::string_view::npos, "a line holding a newline");
      got.emplace_back(line);
      return line != "STOP";
    });
    FUZZ_CHECK(got == want, "the framer's lines are not the model's");
    if (r == vsp::LineFramer::Result::overflow) {
      FUZZ_CHECK(!model_ok, "overflow where the model sees none");
      return 0;
    }
    FUZZ_CHECK(model_ok, "no overflow where the model sees one");
    if (r == vsp::LineFramer::Result::stopped) {
      FUZZ_CHECK(model_stopped, "stopped without a handler saying so");
      return 0;
    }
    FUZZ_CHECK(!model_stopped, "the handler said stop and the framer went on");
    FUZZ_CHECK(framer.partial() == model.tail(), "the held tail is not the model's");
    FUZZ_CHECK(framer.buffered() <= max + 1, "a held tail over the limit");
    if (framer.buffered() == 0) {
      FUZZ_CHECK(framer.capacity() <= 1024, "a long line's buffer was kept");
    }
  }
  return 0;
}
