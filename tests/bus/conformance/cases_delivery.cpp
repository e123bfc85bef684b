// Delivery: queue groups, order per publisher, payloads (binary, empty, up to the limit and
// over it), unsubscribe (no delivery afterwards, none still running, from inside the handler),
// calls from inside handlers, and a stopped bus.
#include <atomic>
#include <map>
#include <thread>

#include "conformance.hpp"

namespace vespid::bus_test {

using namespace std::chrono_literals;

TEST_P(BusConformance, QueueGroupGivesEachMessageToOneMember) {
  constexpr int kMessages = 60;
  Collector w1, w2, w3, audit, other_group;
  subscribe(subject("jobs.*"), w1, "workers");
  subscribe(subject("jobs.*"), w2, "workers");
  subscribe(subject("jobs.*"), w3, "workers");
  subscribe(subject("jobs.*"), audit);                  // no group: sees everything
  subscribe(subject("jobs.*"), other_group, "others");  // a second group: one copy of its own
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(bus().publish(subject("jobs.run"), std::to_string(i)));
  }
  ASSERT_TRUE(audit.wait_for(kMessages));
  ASSERT_TRUE(other_group.wait_for(kMessages));
  std::map<std::string, int> seen;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (w1.size() + w2.size() + w3.size() < kMessages &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  for (Collector* w : {&w1, &w2, &w3}) {
    for (const auto& r : w->all()) seen[r.data]++;
    EXPECT_GE(w->size(), 1u) << "a member of the group got nothing out of " << kMessages;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kMessages)) << "every message reached the group";
  for (const auto& [data, n] : seen) EXPECT_EQ(n, 1) << "message " << data << " went to " << n;
  if (GetParam().round_robin) {
    EXPECT_EQ(w1.size(), kMessages / 3u);
    EXPECT_EQ(w2.size(), kMessages / 3u);
    EXPECT_EQ(w3.size(), kMessages / 3u);
  }
  EXPECT_EQ(audit.size(), static_cast<size_t>(kMessages));
  EXPECT_EQ(other_group.size(), static_cast<size_t>(kMessages));
}

TEST_P(BusConformance, OnePublishersMessagesArriveInOrder) {
  constexpr int kPerThread = 2000;
  Collector c;
  subscribe(subject("seq.>"), c);
  // Two publishers at once: each one's messages keep their order, interleaved as they may.
  auto publish_all = [&](const std::string& who) {
    for (int i = 0; i < kPerThread; ++i) {
      while (!bus().publish(subject("seq." + who), std::to_string(i))) {
        std::this_thread::sleep_for(1ms);  // a full buffer refuses: try again
      }
    }
  };
  std::thread a(publish_all, "a");
  std::thread b(publish_all, "b");
  a.join();
  b.join();
  ASSERT_TRUE(c.wait_for(2 * kPerThread, 30s)) << c.size();
  std::map<std::string, int> next;
  for (const auto& r : c.all()) {
    int& expect = next[r.subject];
    ASSERT_EQ(r.data, std::to_string(expect)) << "out of order on " << r.subject;
    ++expect;
  }
  EXPECT_EQ(next[subject("seq.a")], kPerThread);
  EXPECT_EQ(next[subject("seq.b")], kPerThread);
  EXPECT_FALSE(c.overlapped()) << "one subscription's handler ran twice at once";
}

TEST_P(BusConformance, PayloadsAreOpaqueBytes) {
  Collector c;
  subscribe(subject("bin"), c);
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  const std::string crlf = "PUB x 1\r\n\r\nMSG\r\n";  // protocol-looking text is just data
  ASSERT_TRUE(bus().publish(subject("bin"), all_bytes));
  ASSERT_TRUE(bus().publish(subject("bin"), ""));
  ASSERT_TRUE(bus().publish(subject("bin"), crlf, subject("reply.box")));
  ASSERT_TRUE(c.wait_for(3));
  auto got = c.all();
  EXPECT_EQ(got[0].data, all_bytes);
  EXPECT_EQ(got[1].data, "");
  EXPECT_EQ(got[2].data, crlf);
  EXPECT_EQ(got[2].reply_to, subject("reply.box"));
}

TEST_P(BusConformance, PayloadsUpToTheLimitPassAndLargerAreRefused) {
  const size_t max = GetParam().max_payload;
  Collector c;
  subscribe(subject("big"), c);
  std::string payload(max, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>((i * 131) & 0xff);
  std::string why;
  ASSERT_EQ(bus().try_publish(subject("big"), payload, {}, &why), VSP_OK) << why;
  ASSERT_TRUE(c.wait_for(1, 30s));
  EXPECT_TRUE(c.all()[0].data == payload) << "the largest payload arrived changed";

  EXPECT_EQ(bus().try_publish(subject("big"), payload + "x", {}, &why), VSP_E_OVERFLOW);
  EXPECT_FALSE(why.empty());
  ReplyWaiter w;
  bus().request(subject("big"), payload + "x", 5s, w.done());
  ASSERT_TRUE(w.wait());
  EXPECT_EQ(w.reply().status, host::BusStatus::Error) << w.reply().error;

  // The refusal left the bus as it was.
  ASSERT_TRUE(bus().publish(subject("big"), "small"));
  ASSERT_TRUE(c.wait_for(2));
  EXPECT_EQ(c.all()[1].data, "small");
}

TEST_P(BusConformance, NothingArrivesAfterUnsubscribe) {
  Collector gone, stays;
  auto id = subscribe(subject("u.>"), gone);
  subscribe(subject("u.>"), stays);
  ASSERT_TRUE(bus().publish(subject("u.1"), "before"));
  ASSERT_TRUE(gone.wait_for(1));
  bus().unsubscribe(id);
  const size_t after_unsubscribe = gone.size();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(bus().publish(subject("u.2"), "after"));
  ASSERT_TRUE(stays.wait_for(51));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(gone.size(), after_unsubscribe) << "delivered after unsubscribe returned";
  EXPECT_EQ(after_unsubscribe, 1u);
  bus().unsubscribe(id);  // twice, and an id that never existed: ignored
  bus().unsubscribe(987654321);
}

TEST_P(BusConformance, UnsubscribeWaitsForTheRunningHandler) {
  std::atomic<bool> entered{false}, finished{false};
  Collector c;
  auto id = bus().subscribe(subject("slow"), "", c.handler([&](const host::BusMessage&) {
    entered = true;
    std::this_thread::sleep_for(300ms);
    finished = true;
  }));
  ASSERT_TRUE(bus().publish(subject("slow"), "x"));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!entered && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(entered);
  bus().unsubscribe(id);
  EXPECT_TRUE(finished) << "unsubscribe returned while the handler was still running";
}

TEST_P(BusConformance, UnsubscribeWhileMessagesFlowNeverCallsAfterwards) {
  // Teardown safety under load: a publisher keeps going while subscriptions come and go; once
  // unsubscribe returned, that subscription's handler (and what it captured) is never touched.
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    while (!stop) {
      bus().publish(subject("race.x"), "m");
      std::this_thread::sleep_for(50us);
    }
  });
  std::atomic<int> late{0};
  for (int i = 0; i < 40; ++i) {
    auto gone = std::make_shared<std::atomic<bool>>(false);
    auto got = std::make_shared<std::atomic<int>>(0);
    auto id = bus().subscribe(subject("race.*"), "", [gone, got, &late](const host::BusMessage&) {
      if (*gone) late++;
      (*got)++;
      std::this_thread::sleep_for(20us);
    });
    // Unsubscribe while messages are arriving for it (also on a busy machine).
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (*got == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(200us);
    }
    EXPECT_GT(got->load(), 0) << "round " << i << ": nothing delivered";
    bus().unsubscribe(id);
    *gone = true;
  }
  stop = true;
  publisher.join();
  EXPECT_EQ(late.load(), 0) << "a handler ran after its unsubscribe returned";
}

TEST_P(BusConformance, AHandlerMayUnsubscribeItself) {
  std::atomic<uint64_t> id{0};
  std::atomic<int> calls{0};
  Collector after;
  id = bus().subscribe(subject("once"), "", [&](const host::BusMessage&) {
    calls++;
    bus().unsubscribe(id.load());
  });
  subscribe(subject("once"), after);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(bus().publish(subject("once"), std::to_string(i)));
  ASSERT_TRUE(after.wait_for(5));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(calls.load(), 1);
}

TEST_P(BusConformance, HandlersMayCallTheBus) {
  // From inside a handler: publish, request, subscribe and unsubscribe, without deadlock.
  Collector echoes, late;
  ReplyWaiter nested;
  std::atomic<uint64_t> late_id{0};
  subscribe(subject("svc.echo"), echoes);
  bus().subscribe(subject("svc.echo"), "responders", [&](const host::BusMessage& m) {
    bus().publish(m.reply_to, "echo:" + std::string(m.data));
  });
  bus().subscribe(subject("trigger"), "", [&](const host::BusMessage&) {
    bus().publish(subject("svc.echo"), "direct");
    bus().request(subject("svc.echo"), "nested", 5s, nested.done());
    late_id = bus().subscribe(subject("late"), "", late.handler());
  });
  ASSERT_TRUE(bus().publish(subject("trigger"), "go"));
  ASSERT_TRUE(nested.wait());
  EXPECT_EQ(nested.reply().status, host::BusStatus::Ok) << nested.reply().error;
  EXPECT_EQ(nested.reply().data, "echo:nested");
  ASSERT_TRUE(echoes.wait_for(2));
  ASSERT_NE(late_id.load(), 0u);
  ASSERT_TRUE(bus().publish(subject("late"), "hello"));
  ASSERT_TRUE(late.wait_for(1));
  bus().unsubscribe(late_id.load());
}

TEST_P(BusConformance, AStoppedBusRefusesEverything) {
  Collector c;
  subscribe(subject("s"), c);
  harness().stop();
  EXPECT_FALSE(bus().up());
  std::string why;
  EXPECT_EQ(bus().try_publish(subject("s"), "x", {}, &why), VSP_E_CLOSED);
  EXPECT_FALSE(bus().publish(subject("s"), "x"));
  EXPECT_THROW(bus().subscribe(subject("s"), "", c.handler()), std::runtime_error);
  ReplyWaiter w;
  bus().request(subject("s"), "x", 5s, w.done());
  ASSERT_TRUE(w.wait(1s)) << "a request to a stopped bus is answered at once";
  EXPECT_EQ(w.reply().status, host::BusStatus::Down);
  EXPECT_EQ(c.size(), 0u);
}

}  // namespace vespid::bus_test

extern "C" void vespid_bus_conformance_delivery() {}
