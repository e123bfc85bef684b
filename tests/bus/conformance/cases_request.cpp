// Request/reply: the first reply, a timeout, no responders, requests in parallel, and `done`
// called exactly once.
#include <atomic>
#include <thread>

#include "conformance.hpp"

namespace vespid::bus_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_P(BusConformance, RequestGetsTheFirstReply) {
  bus().subscribe(subject("math.double"), "", [&](const host::BusMessage& m) {
    ASSERT_FALSE(m.reply_to.empty()) << "a request carries a reply subject";
    const int n = std::stoi(std::string(m.data));
    bus().publish(m.reply_to, std::to_string(2 * n));
    bus().publish(m.reply_to, "a second reply is ignored");
  });
  ReplyWaiter w;
  bus().request(subject("math.double"), "21", 5s, w.done());
  ASSERT_TRUE(w.wait());
  EXPECT_EQ(w.reply().status, host::BusStatus::Ok) << w.reply().error;
  EXPECT_EQ(w.reply().data, "42");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(w.calls(), 1) << "done runs exactly once";
}

TEST_P(BusConformance, ManyRequestsInFlightEachGetTheirOwnReply) {
  constexpr int kRequests = 200;
  bus().subscribe(subject("rpc.upper"), "rpc", [&](const host::BusMessage& m) {
    std::string up(m.data);
    for (char& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    bus().publish(m.reply_to, up);
  });
  std::vector<std::unique_ptr<ReplyWaiter>> waiters;
  for (int i = 0; i < kRequests; ++i) {
    waiters.push_back(std::make_unique<ReplyWaiter>());
    bus().request(subject("rpc.upper"), "req-" + std::to_string(i), 10s, waiters.back()->done());
  }
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(waiters[i]->wait()) << "request " << i;
    EXPECT_EQ(waiters[i]->reply().status, host::BusStatus::Ok) << waiters[i]->reply().error;
    EXPECT_EQ(waiters[i]->reply().data, "REQ-" + std::to_string(i));
  }
}

TEST_P(BusConformance, RequestWithoutAReplyTimesOut) {
  Collector heard;
  subscribe(subject("silent"), heard);  // a subscriber that never answers
  ReplyWaiter w;
  const auto sent = Clock::now();
  bus().request(subject("silent"), "anyone?", 300ms, w.done());
  ASSERT_TRUE(w.wait());
  const auto took = w.at() - sent;
  EXPECT_EQ(w.reply().status, host::BusStatus::Timeout) << w.reply().error;
  EXPECT_FALSE(w.reply().error.empty());
  EXPECT_GE(took, 280ms);
  EXPECT_LT(took, 3s);
  EXPECT_EQ(heard.size(), 1u) << "the request was delivered, just not answered";
}

TEST_P(BusConformance, RequestToNobodyFailsAtOnceWithNoResponders) {
  ReplyWaiter w;
  const auto sent = Clock::now();
  bus().request(subject("nobody.home"), "hello?", 20s, w.done());
  ASSERT_TRUE(w.wait());
  EXPECT_EQ(w.reply().status, host::BusStatus::NoResponders) << w.reply().error;
  EXPECT_LT(w.at() - sent, 3s) << "no responders is known long before the timeout";

  // A queue group counts as a responder; a subscriber that left does not.
  Collector c;
  auto id = subscribe(subject("nobody.home"), c, "g");
  bus().unsubscribe(id);
  ReplyWaiter again;
  bus().request(subject("nobody.home"), "hello?", 20s, again.done());
  ASSERT_TRUE(again.wait());
  EXPECT_EQ(again.reply().status, host::BusStatus::NoResponders) << again.reply().error;
}

TEST_P(BusConformance, ARequestIsAnOrdinaryMessageWithAReplySubject) {
  // A responder may answer through any instance and a watcher sees the request like any other
  // message: reply subjects are plain subjects.
  Collector watcher;
  subscribe(subject("op.>"), watcher);
  bus().subscribe(subject("op.get"), "",
                  [&](const host::BusMessage& m) { bus().publish(m.reply_to, "value"); });
  ReplyWaiter w;
  bus().request(subject("op.get"), "key", 5s, w.done());
  ASSERT_TRUE(w.wait());
  EXPECT_EQ(w.reply().data, "value");
  ASSERT_TRUE(watcher.wait_for(1));
  EXPECT_EQ(watcher.all()[0].data, "key");
  EXPECT_FALSE(watcher.all()[0].reply_to.empty());
}

}  // namespace vespid::bus_test

extern "C" void vespid_bus_conformance_request() {}
