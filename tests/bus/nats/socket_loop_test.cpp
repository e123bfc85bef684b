// The nats plugin's own socket loop (plugins/nats/src/socket_loop.hpp) with more than a socket
// holds: a burst of the largest payloads is written in pieces, by the publisher while the
// socket takes it and by the loop for the rest, and read in pieces by the receiving instance,
// whose loop hands the messages out; and what is still buffered at a stop goes out before the
// connection closes. With `prompt_writes` off the loop writes everything.
#include "burst.hpp"
#include "conformance/collector.hpp"
#include "conformance/harness.hpp"
#include "nats_env.hpp"

namespace vespid::bus_test::nats {
namespace {

using namespace std::chrono_literals;

class NatsSocketLoop : public testing::TestWithParam<bool> {
 protected:
  // Returns once b's subscriptions are in force at the server: b's own request to one of them
  // is answered, and the server takes a connection's subscriptions and publishes in order.
  void wait_until_b_subscribed(const std::string& subject) {
    ReplyWaiter ready;
    b_->bus().request(subject, "", 5s, ready.done());
    ASSERT_TRUE(ready.wait());
    ASSERT_EQ(ready.reply().status, host::BusStatus::Ok) << ready.reply().error;
  }

  void SetUp() override {
    VESPID_REQUIRE_NATS_SERVER();
    const std::string extra = GetParam() ? "" : R"("prompt_writes": false)";
    a_ = std::make_unique<BusHarness>("nats", config_for(shared_server().url(), extra));
    b_ = std::make_unique<BusHarness>("nats", config_for(shared_server().url(), extra));
    a_->start();
    b_->start();
  }

  std::unique_ptr<BusHarness> a_, b_;
};

TEST_P(NatsSocketLoop, ABurstOfTheLargestPayloadsArrivesWholeAndInOrder) {
  expect_a_burst_arrives(*a_, *b_, "loop.burst");
}

TEST_P(NatsSocketLoop, RequestsBetweenTwoInstancesGetTheirOwnReplies) {
  b_->bus().subscribe("loop.echo", "", [this](const host::BusMessage& m) {
    b_->bus().publish(m.reply_to, "echo " + std::string(m.data));
  });
  wait_until_b_subscribed("loop.echo");
  constexpr int kRequests = 200;
  std::vector<std::unique_ptr<ReplyWaiter>> waiters;
  for (int i = 0; i < kRequests; ++i) {
    waiters.push_back(std::make_unique<ReplyWaiter>());
    a_->bus().request("loop.echo", std::to_string(i), 10s, waiters.back()->done());
  }
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(waiters[i]->wait()) << i;
    EXPECT_EQ(waiters[i]->reply().status, host::BusStatus::Ok) << waiters[i]->reply().error;
    EXPECT_EQ(waiters[i]->reply().data, "echo " + std::to_string(i));
  }
}

TEST_P(NatsSocketLoop, WhatWasPublishedJustBeforeAStopStillGoesOut) {
  Collector got;
  b_->bus().subscribe("loop.last", "", got.handler());
  b_->bus().subscribe("loop.ready", "", [this](const host::BusMessage& m) {
    b_->bus().publish(m.reply_to, "ready");
  });
  wait_until_b_subscribed("loop.ready");
  // Large enough that the socket cannot take it in one write, so some of it is still in the
  // buffer when the stop begins.
  const std::string last(512 * 1024, 'z');
  ASSERT_TRUE(a_->bus().publish("loop.last", last));
  a_->stop();
  ASSERT_TRUE(got.wait_for(1, 10s)) << "the message published before the stop was dropped";
  EXPECT_EQ(got.all()[0].data.size(), last.size());
}

INSTANTIATE_TEST_SUITE_P(Writes, NatsSocketLoop, testing::Values(true, false),
                         [](const testing::TestParamInfo<bool>& p) {
                           return p.param ? "PublisherWrites" : "LoopWrites";
                         });

}  // namespace
}  // namespace vespid::bus_test::nats
