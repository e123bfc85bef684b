// vsp::LineFramer (the SDK's <vespid/line_framer.hpp>) on its own: the framing rules without
// sockets.
#include <gtest/gtest.h>

#include <string>
#include <vector>
#include <vespid/line_framer.hpp>

namespace vespid::bridge {
namespace {

using vsp::LineFramer;

struct Collect {
  std::vector<std::string> lines;
  bool operator()(std::string_view l) {
    lines.emplace_back(l);
    return true;
  }
};

LineFramer::Result feed(LineFramer& f, std::string_view s, Collect& c) {
  return f.feed(s.data(), s.size(), [&c](std::string_view l) { return c(l); });
}

TEST(LineFramer, WholeSplitCrlfAndBlankLines) {
  LineFramer f(100);
  Collect c;
  EXPECT_EQ(feed(f, "a\nbb\n\n\r\nccc", c), LineFramer::Result::ok);
  EXPECT_EQ(f.buffered(), 3u);
  EXPECT_EQ(feed(f, "c\r", c), LineFramer::Result::ok);
  EXPECT_EQ(feed(f, "\nd\r\n", c), LineFramer::Result::ok);
  EXPECT_EQ(feed(f, "", c), LineFramer::Result::ok);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"a", "bb", "cccc", "d"}));
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(LineFramer, LimitIsOnTheLineWithoutItsTerminator) {
  LineFramer f(4);
  Collect c;
  EXPECT_EQ(feed(f, "abcd\r\nabcd\n", c), LineFramer::Result::ok);
  EXPECT_EQ(feed(f, "abc", c), LineFramer::Result::ok);
  EXPECT_EQ(feed(f, "d\r", c), LineFramer::Result::ok);  // the '\r' may still be stripped
  EXPECT_EQ(feed(f, "\n", c), LineFramer::Result::ok);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"abcd", "abcd", "abcd"}));

  LineFramer g(4);
  EXPECT_EQ(feed(g, "abcde\n", c), LineFramer::Result::overflow);
  LineFramer h(4);
  EXPECT_EQ(feed(h, "abcde", c), LineFramer::Result::overflow);  // no need to wait for the end
  LineFramer i(4);
  EXPECT_EQ(feed(i, "ab", c), LineFramer::Result::ok);
  EXPECT_EQ(feed(i, "cd\rx", c), LineFramer::Result::overflow);
  LineFramer j(4);
  EXPECT_EQ(feed(j, "abcd", c), LineFramer::Result::ok);
  EXPECT_EQ(feed(j, "e\n", c), LineFramer::Result::overflow);
}

TEST(LineFramer, StopDropsTheRest) {
  LineFramer f(10);
  int calls = 0;
  const std::string in = "a\nb\nc\n";
  EXPECT_EQ(f.feed(in.data(), in.size(),
                   [&](std::string_view) {
                     ++calls;
                     return false;
                   }),
            LineFramer::Result::stopped);
  EXPECT_EQ(calls, 1);
}

TEST(LineFramer, BigLineMemoryIsReleased) {
  LineFramer f(1 << 20);
  Collect c;
  const std::string big(300000, 'x');
  EXPECT_EQ(feed(f, big, c), LineFramer::Result::ok);
  EXPECT_GE(f.capacity(), big.size());
  EXPECT_EQ(feed(f, "\n", c), LineFramer::Result::ok);
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0].size(), big.size());
  EXPECT_LE(f.capacity(), 1024u);
}

// A large line comes in several reads. Its first piece is buffered with room for as much
// again, so the next piece is added behind it rather than moving it (a 64 KiB payload's line
// read in two pieces used to be copied twice).
TEST(LineFramer, ALargeLinesSecondPieceDoesNotMoveTheFirst) {
  LineFramer f(1 << 20);
  Collect c;
  const std::string first(40000, 'a'), second(30000, 'b');
  EXPECT_EQ(feed(f, first, c), LineFramer::Result::ok);
  const char* const where = f.partial().data();
  EXPECT_GE(f.capacity(), 2 * first.size());
  EXPECT_EQ(feed(f, second, c), LineFramer::Result::ok);
  EXPECT_EQ(f.partial().data(), where) << "the first piece moved";
  EXPECT_EQ(feed(f, "\n", c), LineFramer::Result::ok);
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0], first + second);

  LineFramer small(100);  // the room is within the limit
  EXPECT_EQ(feed(small, std::string(80, 'x'), c), LineFramer::Result::ok);
  EXPECT_LE(small.capacity(), 101u + 15u);
}

TEST(LineFramer, KeptCrIsPartOfTheLineAndCounts) {
  // The unix transport and the tcp-lines example hand a '\r' on to the host.
  LineFramer f(4, LineFramer::Cr::keep);
  Collect c;
  EXPECT_EQ(feed(f, "abc\r\nab", c), LineFramer::Result::ok);
  EXPECT_EQ(f.partial(), "ab");
  EXPECT_EQ(c.lines, (std::vector<std::string>{"abc\r"}));
  EXPECT_EQ(feed(f, "cd\r", c), LineFramer::Result::overflow);
  LineFramer g(4, LineFramer::Cr::keep);
  EXPECT_EQ(feed(g, "abcd\r\n", c), LineFramer::Result::overflow);
}

}  // namespace
}  // namespace vespid::bridge
