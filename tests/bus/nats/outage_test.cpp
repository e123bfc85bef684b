// The nats bus when its server goes away and comes back, each test with a nats-server of its
// own: the state callback hears down and up, publishing while down is refused with
// VSP_E_CLOSED (nothing is queued), a request in flight fails at once, subscriptions (also ones
// made while down) work again after the reconnect, and two gateways talk through one server.
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "conformance/collector.hpp"
#include "conformance/harness.hpp"
#include "nats_env.hpp"

namespace vespid::bus_test::nats {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Records the state callback's calls.
class StateLog {
 public:
  std::function<void(bool, std::string_view)> fn() {
    return [this](bool up, std::string_view reason) {
      std::lock_guard lock(mu_);
      events_.push_back({up, std::string(reason)});
      cv_.notify_all();
    };
  }
  // Waits for the n-th event (1-based); false on timeout.
  bool wait_for(size_t n, std::chrono::milliseconds timeout = 15s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return events_.size() >= n; });
  }
  std::vector<std::pair<bool, std::string>> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<bool, std::string>> events_;
};

class NatsOutage : public testing::Test {
 protected:
  void SetUp() override {
    VESPID_REQUIRE_NATS_SERVER();
    server_ = std::make_unique<vespid::test::NatsServer>();
    server_->start();
  }

  // A started bus on this test's server that retries quickly.
  std::unique_ptr<BusHarness> bus_on_server(const std::string& extra = {}) {
    auto h = std::make_unique<BusHarness>(
        "nats", config_for(server_->url(), R"("max_reconnect_wait_ms": 200)" +
                                               (extra.empty() ? "" : ", " + extra)));
    return h;
  }

  std::unique_ptr<vespid::test::NatsServer> server_;
};

TEST_F(NatsOutage, StateGoesDownAndUpWhenTheServerIsKilledAndRestarted) {
  auto h = bus_on_server();
  StateLog states;
  h->bus().on_state(states.fn());
  h->start();
  ASSERT_TRUE(h->bus().up());

  server_->kill();
  ASSERT_TRUE(states.wait_for(1)) << "no down event after the server died";
  EXPECT_FALSE(states.events()[0].first);
  EXPECT_NE(states.events()[0].second.find(server_->url()), std::string::npos)
      << states.events()[0].second;
  EXPECT_FALSE(h->bus().up());

  std::string why;
  EXPECT_EQ(h->bus().try_publish("while.down", "x", {}, &why), VSP_E_CLOSED);
  EXPECT_NE(why.find("not connected"), std::string::npos) << why;
  ReplyWaiter w;
  const auto t0 = Clock::now();
  h->bus().request("while.down", "x", 30s, w.done());
  ASSERT_TRUE(w.wait(2s));
  EXPECT_EQ(w.reply().status, host::BusStatus::Down) << w.reply().error;
  EXPECT_LT(Clock::now() - t0, 2s);

  server_->start();  // the same port
  ASSERT_TRUE(states.wait_for(2)) << "no up event after the server came back";
  EXPECT_TRUE(states.events()[1].first);
  EXPECT_NE(states.events()[1].second.find("reconnected"), std::string::npos)
      << states.events()[1].second;
  EXPECT_TRUE(h->bus().up());
  EXPECT_EQ(h->bus().try_publish("after", "x", {}, &why), VSP_OK) << why;

  // A graceful stop of the server is a loss of the bus too.
  server_->stop();
  ASSERT_TRUE(states.wait_for(3));
  EXPECT_FALSE(states.events()[2].first);
  server_->start();
  ASSERT_TRUE(states.wait_for(4));
  EXPECT_TRUE(states.events()[3].first);
  EXPECT_EQ(states.events().size(), 4u) << "one call per change";
  h->stop();
  EXPECT_TRUE(h->services().failures().empty());
}

TEST_F(NatsOutage, SubscriptionsSurviveAReconnect) {
  auto h = bus_on_server();
  StateLog states;
  h->bus().on_state(states.fn());
  h->start();
  Collector before, during, group;
  h->bus().subscribe("keep.>", "", before.handler());
  h->bus().subscribe("keep.q", "workers", group.handler());

  server_->kill();
  ASSERT_TRUE(states.wait_for(1));
  // Made while the server is away: libnats sends it once it is back.
  h->bus().subscribe("made.while.down", "", during.handler());
  server_->start();
  ASSERT_TRUE(states.wait_for(2));

  // From another connection, so that the messages really pass through the restarted server.
  auto peer = bus_on_server();
  peer->start();
  ASSERT_TRUE(peer->bus().publish("keep.1", "a"));
  ASSERT_TRUE(peer->bus().publish("keep.q", "b"));
  ASSERT_TRUE(peer->bus().publish("made.while.down", "c"));
  ASSERT_TRUE(before.wait_for(2)) << before.size();
  ASSERT_TRUE(group.wait_for(1));
  ASSERT_TRUE(during.wait_for(1));
  EXPECT_EQ(during.all()[0].data, "c");
  peer->stop();
  h->stop();
}

TEST_F(NatsOutage, ARequestInFlightFailsAtOnceWhenTheServerDies) {
  auto h = bus_on_server();
  StateLog states;
  h->bus().on_state(states.fn());
  h->start();
  Collector silent;
  h->bus().subscribe("never.answers", "", silent.handler());
  ReplyWaiter w;
  h->bus().request("never.answers", "x", 60s, w.done());
  ASSERT_TRUE(silent.wait_for(1)) << "the request reached its subscriber";
  const auto t0 = Clock::now();
  server_->kill();
  ASSERT_TRUE(w.wait(5s)) << "still waiting after the server died";
  EXPECT_EQ(w.reply().status, host::BusStatus::Down) << w.reply().error;
  EXPECT_LT(w.at() - t0, 5s);
  EXPECT_EQ(w.calls(), 1);
  h->stop();
}

TEST_F(NatsOutage, TwoGatewaysTalkThroughOneServer) {
  auto a = bus_on_server(R"("name": "gw-a")");
  auto b = bus_on_server(R"("name": "gw-b")");
  a->start();
  b->start();
  Collector at_b, workers_a, workers_b;
  b->bus().subscribe("presence.*", "", at_b.handler());
  b->bus().subscribe("invoke.node.1", "", [&](const host::BusMessage& m) {
    b->bus().publish(m.reply_to, "done by b: " + std::string(m.data));
  });
  a->bus().subscribe("jobs", "workers", workers_a.handler());
  b->bus().subscribe("jobs", "workers", workers_b.handler());
  // b's subscriptions reach the server before a publishes: a round trip of b's own proves it.
  ReplyWaiter ready;
  b->bus().request("invoke.node.1", "ping", 5s, ready.done());
  ASSERT_TRUE(ready.wait());

  ASSERT_TRUE(a->bus().publish("presence.gw-a", "hello"));
  ASSERT_TRUE(at_b.wait_for(1));
  EXPECT_EQ(at_b.all()[0].subject, "presence.gw-a");
  ReplyWaiter w;
  a->bus().request("invoke.node.1", "work", 5s, w.done());
  ASSERT_TRUE(w.wait());
  EXPECT_EQ(w.reply().status, host::BusStatus::Ok) << w.reply().error;
  EXPECT_EQ(w.reply().data, "done by b: work");
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(a->bus().publish("jobs", std::to_string(i)));
  const auto deadline = Clock::now() + 10s;
  while (workers_a.size() + workers_b.size() < 40 && Clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(workers_a.size() + workers_b.size(), 40u) << "each job went to one of the group";
  a->stop();
  b->stop();
}

TEST_F(NatsOutage, StartFailsClearlyWhenNoServerIsReachable) {
  const std::string url = server_->url();
  server_->stop();
  BusHarness h("nats", config_for(url, R"("connect_timeout_ms": 1000)"));
  try {
    h.start();
    FAIL() << "started without a server";
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("nats: cannot connect to " + url + ": ", 0), 0u) << msg;
  }
  EXPECT_FALSE(h.bus().up());
}

TEST_F(NatsOutage, WithoutConnectRequiredItStartsDownAndComesUpWithTheServer) {
  const std::string url = server_->url();
  server_->stop();
  auto h = std::make_unique<BusHarness>(
      "nats", config_for(url, R"("connect_required": false, "max_reconnect_wait_ms": 200)"));
  StateLog states;
  h->bus().on_state(states.fn());
  ASSERT_NO_THROW(h->start());
  EXPECT_FALSE(h->bus().up());
  std::string why;
  EXPECT_EQ(h->bus().try_publish("x", "y", {}, &why), VSP_E_CLOSED);
  Collector c;
  h->bus().subscribe("early", "", c.handler());  // made before the first connection

  server_->start();
  ASSERT_TRUE(states.wait_for(1)) << "no up event once the server started";
  EXPECT_TRUE(states.events()[0].first);
  EXPECT_TRUE(h->bus().up());
  ASSERT_TRUE(h->bus().publish("early", "z"));
  ASSERT_TRUE(c.wait_for(1));
  h->stop();
}

}  // namespace
}  // namespace vespid::bus_test::nats
