// Subject matching: exact subjects, `*` (one token), `>` (one or more trailing tokens), and
// subjects the bus refuses.
#include <set>

#include "conformance.hpp"

namespace vespid::bus_test {
namespace {

std::vector<std::string> subjects_of(Collector& c) {
  std::vector<std::string> out;
  for (const auto& r : c.all()) out.push_back(r.subject);
  return out;
}

}  // namespace

TEST_P(BusConformance, ExactSubjectGetsOnlyItsOwnMessages) {
  Collector c;
  subscribe(subject("orders.new"), c);
  ASSERT_TRUE(bus().publish(subject("orders.old"), "no"));
  ASSERT_TRUE(bus().publish(subject("orders.new.x"), "no"));
  ASSERT_TRUE(bus().publish(subject("orders"), "no"));
  ASSERT_TRUE(bus().publish(subject("orders.new"), "yes"));
  ASSERT_TRUE(c.wait_for(1));
  auto got = c.all();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].subject, subject("orders.new"));
  EXPECT_EQ(got[0].data, "yes");
  EXPECT_EQ(got[0].reply_to, "");
}

TEST_P(BusConformance, StarMatchesExactlyOneToken) {
  Collector c;
  subscribe(subject("a.*.c"), c);
  for (const char* s : {"a.c", "a.b.b.c", "a.b.d", "a.b", "a.b.c.d", "a.x.c", "a.yy.c"}) {
    ASSERT_TRUE(bus().publish(subject(s), s));
  }
  ASSERT_TRUE(bus().publish(subject("a.end.c"), "end"));
  ASSERT_TRUE(c.wait_for(3));
  EXPECT_EQ(subjects_of(c),
            (std::vector<std::string>{subject("a.x.c"), subject("a.yy.c"), subject("a.end.c")}));

  Collector tail;
  subscribe(subject("q.*"), tail);
  for (const char* s : {"q", "q.1.2", "q.1"}) ASSERT_TRUE(bus().publish(subject(s), s));
  ASSERT_TRUE(tail.wait_for(1));
  ASSERT_TRUE(bus().publish(subject("q.end"), "end"));
  ASSERT_TRUE(tail.wait_for(2));
  EXPECT_EQ(subjects_of(tail), (std::vector<std::string>{subject("q.1"), subject("q.end")}));
}

TEST_P(BusConformance, GreaterMatchesOneOrMoreTrailingTokens) {
  Collector c;
  subscribe(subject("events.>"), c);
  for (const char* s : {"events", "eventsx.a", "events.a", "events.a.b", "events.a.b.c.d"}) {
    ASSERT_TRUE(bus().publish(subject(s), s));
  }
  ASSERT_TRUE(bus().publish(subject("events.end"), "end"));
  ASSERT_TRUE(c.wait_for(4));
  EXPECT_EQ(subjects_of(c),
            (std::vector<std::string>{subject("events.a"), subject("events.a.b"),
                                      subject("events.a.b.c.d"), subject("events.end")}));
}

TEST_P(BusConformance, EveryMatchingSubscriptionGetsItsCopy) {
  Collector exact, star, rest, other;
  subscribe(subject("m.x.y"), exact);
  subscribe(subject("m.*.y"), star);
  subscribe(subject("m.>"), rest);
  subscribe(subject("n.>"), other);
  ASSERT_TRUE(bus().publish(subject("m.x.y"), "one"));
  ASSERT_TRUE(exact.wait_for(1));
  ASSERT_TRUE(star.wait_for(1));
  ASSERT_TRUE(rest.wait_for(1));
  ASSERT_TRUE(bus().publish(subject("n.end"), "end"));
  ASSERT_TRUE(other.wait_for(1));
  EXPECT_EQ(exact.size(), 1u);
  EXPECT_EQ(star.size(), 1u);
  EXPECT_EQ(rest.size(), 1u);
  EXPECT_EQ(other.all()[0].data, "end");
}

TEST_P(BusConformance, MalformedSubjectsAreRefused) {
  std::string why;
  for (const char* bad :
       {"", ".", "a..b", "a.", ".a", "a b", "a.*", "a.>", "*", ">", "a\tb", "caf\xc3\xa9"}) {
    EXPECT_EQ(bus().try_publish(bad, "x", {}, &why), VSP_E_INVALID) << "subject \"" << bad << "\"";
  }
  EXPECT_EQ(bus().try_publish(subject("ok"), "x", "reply.*", &why), VSP_E_INVALID)
      << "a reply subject with a wildcard";
  EXPECT_EQ(bus().try_publish(subject("ok"), "x", "re ply", &why), VSP_E_INVALID);
  EXPECT_FALSE(why.empty()) << "a refusal says why";
  EXPECT_FALSE(bus().publish("a..b", "x"));
  EXPECT_EQ(bus().try_publish(subject("a-b_c.D9.~!"), "x", {}, &why), VSP_OK) << why;

  Collector c;
  for (const char* bad : {"", "a.>.b", "a..b", "a b", ">.a"}) {
    EXPECT_THROW(bus().subscribe(bad, "", c.handler()), std::runtime_error)
        << "pattern \"" << bad << "\"";
  }
  EXPECT_THROW(bus().subscribe(subject("ok"), "two words", c.handler()), std::runtime_error);

  ReplyWaiter w;
  bus().request("a.*", "x", std::chrono::seconds(5), w.done());
  ASSERT_TRUE(w.wait());
  EXPECT_EQ(w.reply().status, host::BusStatus::Error) << w.reply().error;
  EXPECT_EQ(w.calls(), 1);
}

}  // namespace vespid::bus_test

extern "C" void vespid_bus_conformance_match() {}
