#include "sse_parser.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace vespid::agent;

namespace {

struct Collector {
  std::vector<SseEvent> events;
  SseParser parser{[this](const SseEvent& e) { events.push_back(e); }};
};

}  // namespace

TEST(SseParser, EventsSplitAcrossChunksAtEveryByte) {
  const std::string stream =
      "data: {\"a\":1}\n\n: keep-alive\n\ndata: {\"b\":2}\r\n\r\ndata: [DONE]\n\n";
  Collector c;
  for (char ch : stream) c.parser.feed(std::string_view(&ch, 1));
  ASSERT_EQ(c.events.size(), 3u);
  EXPECT_EQ(c.events[0].data, "{\"a\":1}");
  EXPECT_EQ(c.events[1].data, "{\"b\":2}");
  EXPECT_EQ(c.events[2].data, "[DONE]");
}

TEST(SseParser, MultiLineDataIsJoinedWithNewlines) {
  Collector c;
  c.parser.feed("event: note\ndata: one\ndata:two\ndata\n\n");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].event, "note");
  EXPECT_EQ(c.events[0].data, "one\ntwo\n");
}

TEST(SseParser, NothingIsDispatchedBeforeTheBlankLine) {
  Collector c;
  c.parser.feed("data: partial");
  EXPECT_TRUE(c.events.empty());
  c.parser.feed("\n");
  EXPECT_TRUE(c.events.empty());
  c.parser.feed("\n");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "partial");
}

TEST(SseParser, FinishDispatchesAnUnterminatedEvent) {
  Collector c;
  c.parser.feed("data: [DONE]");
  c.parser.finish();
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "[DONE]");
}

TEST(SseParser, CommentsAndBlankLinesAloneDispatchNothing) {
  Collector c;
  c.parser.feed(": ping\n\n\n\nid: 3\n\n");
  EXPECT_TRUE(c.events.empty());
}
