// The node host's server-sent-events parser (apps/agent/sse_parser.hpp), which reads a model
// server's streamed answer. The input's first byte picks how the stream is cut into reads; the
// rest is the stream.
//
// Invariants: the events do not depend on where reads end (fed whole, fed in pieces and fed a
// byte at a time give the same events); no event's data or name holds a '\r', and no name a
// '\n' (line endings never leak into values); an event is dispatched only with data.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "sse_parser.hpp"

namespace {

using vespid::agent::SseEvent;
using vespid::agent::SseParser;

struct Seen {
  std::string event, data;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> parse_in_pieces(std::string_view stream, std::size_t stride) {
  std::vector<Seen> out;
  SseParser parser([&](const SseEvent& e) { out.push_back({e.event, e.data}); });
  std::size_t step = 1;
  for (std::size_t at = 0; at < stream.size();) {
    const std::size_t n = std::min(step, stream.size() - at);
    parser.feed(stream.substr(at, n));
    at += n;
    step = step % stride + 1;  // 1, 2, ..., stride, 1, 2, ...
  }
  parser.finish();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::size_t stride = data[0] % 32 + 1;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  const auto whole = parse_in_pieces(stream, stream.size() + 1);
  const auto pieces = parse_in_pieces(stream, stride);
  const auto bytes = parse_in_pieces(stream, 1);
  FUZZ_CHECK(pieces == whole, "the events depend on where reads end");
  FUZZ_CHECK(bytes == whole, "the events differ when fed a byte at a time");
  for (const auto& e : whole) {
    FUZZ_CHECK(e.data.find('\r') == std::string::npos, "a '\\r' in an event's data");
    FUZZ_CHECK(e.event.find_first_of("\r\n") == std::string::npos, "a line break in a name");
  }
  return 0;
}
