// The routing state partitioned by node (ShardedNodeRouter; docs/design.md, "A core on more than
// one thread", steps 3 and 4): a node's home holds its link and pending invokes, every shard reads
// its own replica of the directory, and an invoke from another shard goes to the home and back
// as messages, its outcome told inside the caller's shard.
#include "services/nodes/sharded_node_router.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/deadlines.hpp"
#include "runtime/loop.hpp"
#include "runtime/sequencer.hpp"

namespace vespid::nodes {
namespace {

using namespace std::chrono_literals;

// Which of the test's shards runs on this thread (-1: none).
int running_shard(core::Sequencer& s0, core::Sequencer& s1) {
  if (s0.running_in_this_thread()) return 0;
  if (s1.running_in_this_thread()) return 1;
  return -1;
}

struct Sent {
  std::string id, command, params;
  int shard;
};

class RecordingLink final : public NodeLink {
 public:
  RecordingLink(core::Sequencer& s0, core::Sequencer& s1) : s0_(s0), s1_(s1) {}
  void send_invoke(std::string_view id, std::string_view command,
                   std::string_view params) override {
    std::lock_guard lock(mutex);
    sent.push_back(
        {std::string(id), std::string(command), std::string(params), running_shard(s0_, s1_)});
  }
  void close(const std::string& reason) override {
    std::lock_guard lock(mutex);
    closed = reason;
  }
  std::string transport_name() const override { return "test"; }
  std::string remote_address() const override { return "test"; }

  std::mutex mutex;
  std::vector<Sent> sent;  // guarded by mutex
  std::string closed;      // guarded by mutex

 private:
  core::Sequencer& s0_;
  core::Sequencer& s1_;
};

struct Told {
  InvokeResult result;
  int shard;
};

class RecordingWaiter final : public InvokeWaiter {
 public:
  RecordingWaiter(core::Sequencer& s0, core::Sequencer& s1) : s0_(s0), s1_(s1) {}
  void invoke_done(InvokeResult&& r) override {
    std::lock_guard lock(mutex);
    told.push_back({std::move(r), running_shard(s0_, s1_)});
  }
  std::mutex mutex;
  std::vector<Told> told;  // guarded by mutex

 private:
  core::Sequencer& s0_;
  core::Sequencer& s1_;
};

class RecordingObserver final : public NodeRouterObserver {
 public:
  explicit RecordingObserver(core::Sequencer& s0) : s0_(s0) {}
  void node_attached(const ConnectedNode& n) override { log("attached " + n.node_id); }
  void node_left(const ConnectedNode& n, const Departure& why) override {
    log("left " + n.node_id + ": " + why.reason);
  }
  void node_detached(const std::string& id) override { log("detached " + id); }
  void node_updated(const ConnectedNode& n) override { log("updated " + n.node_id); }
  std::vector<std::string> events;
  bool all_in_shard_0 = true;

 private:
  void log(std::string e) {
    all_in_shard_0 = all_in_shard_0 && s0_.running_in_this_thread();
    events.push_back(std::move(e));
  }
  core::Sequencer& s0_;
};

class ShardedRouter : public ::testing::Test {
 protected:
  ShardedRouter() { router_.add_observer(&observer_); }

  // Runs fn inside shard `s` and returns once it ran (the test's thread enters the idle shard).
  template <class Fn>
  void in(int s, Fn&& fn) {
    (s == 0 ? s0_ : s1_).execute(std::forward<Fn>(fn));
  }
  std::shared_ptr<RecordingLink> attach(int home, const std::string& id,
                                        std::set<std::string> commands = {"system.echo"}) {
    auto link = std::make_shared<RecordingLink>(s0_, s1_);
    ConnectedNode n;
    n.node_id = id;
    n.org_id = "org-1";
    n.commands = std::move(commands);
    n.link = link;
    in(home, [&] { router_.attach(static_cast<uint32_t>(home), std::move(n)); });
    return link;
  }
  static InvokeResult ok(std::string payload) {
    InvokeResult r;
    r.ok = true;
    r.payload_json = std::move(payload);
    return r;
  }
  // Whether shard `reader`'s replica lists the node.
  bool listed_in(int reader, const std::string& id) {
    bool online = false;
    in(reader, [&] { online = router_.online(id); });
    return online;
  }

  core::Loop loop_;
  core::Sequencer s0_, s1_;
  core::Deadlines d0_{loop_, s0_}, d1_{loop_, s1_};
  RecordingObserver observer_{s0_};
  // No in-flight refusals: the test of two threads at once sends thousands before answering.
  ShardedNodeRouter router_{{{&s0_, &d0_}, {&s1_, &d1_}}, 1 << 20};
};

TEST_F(ShardedRouter, AnInvokeAcrossShardsRunsAtTheNodesHomeAndIsToldInTheCallersShard) {
  auto link = attach(1, "phone");
  EXPECT_TRUE(listed_in(0, "phone"));  // the attach reached shard 0's replica
  EXPECT_TRUE(listed_in(1, "phone"));
  EXPECT_EQ(observer_.events, (std::vector<std::string>{"attached phone"}));

  RecordingWaiter waiter(s0_, s1_);
  in(0, [&] { router_.start_invoke("phone", "system.echo", R"({"text":"hi"})", 30000ms, waiter); });
  ASSERT_EQ(link->sent.size(), 1u);
  EXPECT_EQ(link->sent[0].shard, 1);  // sent by the home
  EXPECT_EQ(link->sent[0].params, R"({"text":"hi"})");
  in(1, [&] { EXPECT_EQ(router_.invokes_in_flight(1), 1u); });  // pending at the home
  in(0, [&] { EXPECT_EQ(router_.invokes_in_flight(0), 0u); });
  EXPECT_TRUE(waiter.told.empty());

  in(1, [&] { router_.complete(1, link.get(), link->sent[0].id, ok(R"({"text":"hi"})")); });
  ASSERT_EQ(waiter.told.size(), 1u);
  EXPECT_TRUE(waiter.told[0].result.ok);
  EXPECT_EQ(waiter.told[0].result.payload_json, R"({"text":"hi"})");
  EXPECT_EQ(waiter.told[0].shard, 0);  // told where the caller waits
  in(1, [&] { EXPECT_EQ(router_.invokes_in_flight(1), 0u); });
  EXPECT_TRUE(observer_.all_in_shard_0);
}

TEST_F(ShardedRouter, AnInvokeWithinItsNodesShardIsSentAndAnsweredThereWithNoMessage) {
  auto link = attach(1, "phone");
  RecordingWaiter waiter(s0_, s1_);
  in(1, [&] {
    router_.start_invoke("phone", "system.echo", "", 30000ms, waiter);
    // Sent during the call itself, and answered in the same turn.
    ASSERT_EQ(link->sent.size(), 1u);
    router_.complete(1, link.get(), link->sent[0].id, ok("1"));
    ASSERT_EQ(waiter.told.size(), 1u);
    EXPECT_EQ(waiter.told[0].shard, 1);
  });
}

TEST_F(ShardedRouter, TheHomeDecidesWithTheCommandsAnUpdateSentBeforeTheInvokeGaveIt) {
  auto link = attach(1, "phone");
  RecordingWaiter refused(s0_, s1_), allowed(s0_, s1_);
  in(0, [&] { router_.start_invoke("phone", "camera.snap", "", 30000ms, refused); });
  ASSERT_EQ(refused.told.size(), 1u);
  EXPECT_FALSE(refused.told[0].result.ok);
  EXPECT_EQ(refused.told[0].result.error_code, "UNAVAILABLE");
  EXPECT_NE(refused.told[0].result.error_message.find("did not declare"), std::string::npos);
  EXPECT_EQ(refused.told[0].shard, 0);

  in(0, [&] {
    router_.update_commands("phone", {"system.echo", "camera.snap"});
    router_.start_invoke("phone", "camera.snap", "", 30000ms, allowed);
  });
  ASSERT_EQ(link->sent.size(), 1u);
  EXPECT_EQ(link->sent[0].command, "camera.snap");
  in(1, [&] { router_.complete(1, link.get(), link->sent[0].id, ok("{}")); });
  ASSERT_EQ(allowed.told.size(), 1u);
  EXPECT_TRUE(allowed.told[0].result.ok);
  // Every replica has the new commands, and shard 0's observers heard of it.
  in(0, [&] { EXPECT_EQ(router_.find("phone")->commands.count("camera.snap"), 1u); });
  in(1, [&] { EXPECT_EQ(router_.find("phone")->commands.count("camera.snap"), 1u); });
  EXPECT_EQ(observer_.events, (std::vector<std::string>{"attached phone", "updated phone"}));
}

TEST_F(ShardedRouter, ANodeNotListedIsRefusedInTheCallersShard) {
  RecordingWaiter waiter(s0_, s1_);
  in(1, [&] { router_.start_invoke("nobody", "system.echo", "", 30000ms, waiter); });
  ASSERT_EQ(waiter.told.size(), 1u);
  EXPECT_EQ(waiter.told[0].result.error_code, "UNAVAILABLE");
  EXPECT_NE(waiter.told[0].result.error_message.find("not connected"), std::string::npos);
  in(0, [&] { EXPECT_EQ(router_.disconnect("nobody", "revoked"), 0); });
}

TEST_F(ShardedRouter, ADetachFailsTheInvokesPendingAtTheHomeAndLeavesEveryReplica) {
  auto link = attach(1, "phone");
  RecordingWaiter waiter(s0_, s1_);
  in(0, [&] { router_.start_invoke("phone", "system.echo", "", 30000ms, waiter); });
  in(1, [&] { router_.detach(1, "phone", link.get(), "ping timeout"); });
  ASSERT_EQ(waiter.told.size(), 1u);
  EXPECT_EQ(waiter.told[0].result.error_code, "UNAVAILABLE");
  EXPECT_EQ(waiter.told[0].shard, 0);
  EXPECT_FALSE(listed_in(0, "phone"));
  EXPECT_FALSE(listed_in(1, "phone"));
  in(0, [&] {
    auto why = router_.last_departure("phone");
    ASSERT_TRUE(why.has_value());
    EXPECT_EQ(why->reason, "ping timeout");
    EXPECT_EQ(router_.connected_count(), 0u);
  });
  EXPECT_EQ(observer_.events, (std::vector<std::string>{
                                  "attached phone", "left phone: ping timeout", "detached phone"}));
}

TEST_F(ShardedRouter, ADisconnectFromAnotherShardClosesTheNodeAtItsHome) {
  auto link = attach(1, "phone");
  in(0, [&] { EXPECT_EQ(router_.disconnect("phone", "revoked by an operator"), 1); });
  EXPECT_EQ(link->closed, "revoked by an operator");
  EXPECT_FALSE(listed_in(0, "phone"));
  EXPECT_FALSE(listed_in(1, "phone"));
}

TEST_F(ShardedRouter, ANodeThatConnectsAgainOnAnotherShardClosesItsOlderConnection) {
  auto first = attach(0, "phone");
  auto second = attach(1, "phone");
  EXPECT_EQ(first->closed, "replaced by a newer connection of the same node");
  EXPECT_TRUE(second->closed.empty());
  in(0, [&] { EXPECT_EQ(router_.find("phone")->link, second); });
  in(1, [&] { EXPECT_EQ(router_.find("phone")->link, second); });
  // The old connection's own close comes late, and changes nothing.
  in(0, [&] { router_.detach(0, "phone", first.get(), "connection closed"); });
  EXPECT_TRUE(listed_in(0, "phone"));
  EXPECT_TRUE(listed_in(1, "phone"));
  EXPECT_EQ(observer_.events, (std::vector<std::string>{"attached phone", "attached phone"}));
  // Invokes go to the new home.
  RecordingWaiter waiter(s0_, s1_);
  in(0, [&] { router_.start_invoke("phone", "system.echo", "", 30000ms, waiter); });
  EXPECT_TRUE(first->sent.empty());
  ASSERT_EQ(second->sent.size(), 1u);
  EXPECT_EQ(second->sent[0].shard, 1);
  in(1, [&] { router_.complete(1, second.get(), second->sent[0].id, ok("{}")); });
  EXPECT_EQ(waiter.told.size(), 1u);
}

TEST_F(ShardedRouter, AnAttachHeardLateLosesToTheNewerOneItsShardAlreadyHolds) {
  // The node connects on shard 1, and again on shard 0 before shard 0 has heard of the first:
  // shard 0 is held meanwhile, so shard 1's message waits in its queue. The second attach
  // (the higher number) wins in both replicas, and shard 1 closes its own connection.
  auto first = std::make_shared<RecordingLink>(s0_, s1_);
  auto second = std::make_shared<RecordingLink>(s0_, s1_);
  std::atomic<bool> holding{false}, release{false};
  std::thread holder([&] {
    s0_.execute([&] {
      holding = true;
      while (!release) std::this_thread::yield();
      ConnectedNode n;
      n.node_id = "phone";
      n.org_id = "org-1";
      n.link = second;
      router_.attach(0, std::move(n));
    });  // then shard 0 runs what waited: the first attach's message, now the older one
  });
  while (!holding) std::this_thread::yield();
  ConnectedNode n;
  n.node_id = "phone";
  n.org_id = "org-1";
  n.link = first;
  in(1, [&] { router_.attach(1, std::move(n)); });
  release = true;
  holder.join();
  EXPECT_EQ(first->closed, "replaced by a newer connection of the same node");
  EXPECT_TRUE(second->closed.empty());
  in(0, [&] { EXPECT_EQ(router_.find("phone")->link, second); });
  in(1, [&] { EXPECT_EQ(router_.find("phone")->link, second); });
}

TEST_F(ShardedRouter, TwoShardsInvokeAtOnceFromTwoThreadsAndEveryInvokeIsToldOnce) {
  auto on0 = attach(0, "desk");
  auto on1 = attach(1, "phone");
  constexpr int kEach = 2000;
  RecordingWaiter waiter0(s0_, s1_), waiter1(s0_, s1_);
  RecordingWaiter* waiters[] = {&waiter0, &waiter1};
  RecordingLink* links[] = {on0.get(), on1.get()};
  // Answers, inside shard `s`, what its node was sent so far.
  auto answer = [this, links](uint32_t s) {
    std::vector<std::string> ids;
    {
      std::lock_guard lock(links[s]->mutex);
      for (auto& sent : links[s]->sent) ids.push_back(sent.id);
      links[s]->sent.clear();
    }
    for (auto& id : ids) router_.complete(s, links[s], id, ok("1"));
  };
  // Each thread is one shard's I/O thread: it invokes both nodes and answers its own node's
  // invokes, as a gateway of two shards would. What it hands a shard owns its data: a shard
  // held by the other thread runs it later.
  auto run = [&](uint32_t s) {
    for (int i = 0; i < kEach; ++i) {
      (s == 0 ? s0_ : s1_).execute([this, s, i, answer, w = waiters[s]] {
        router_.start_invoke(i % 2 == 0 ? "desk" : "phone", "system.echo", "", 30000ms, *w);
        answer(s);
      });
    }
  };
  std::thread t0(run, 0u);
  std::thread t1(run, 1u);
  t0.join();
  t1.join();
  // Every item ran (a shard's holder runs its queue before letting go); what was sent after a
  // thread's last answer is answered now.
  in(0, [&] { answer(0); });
  in(1, [&] { answer(1); });
  for (auto* w : waiters) {
    ASSERT_EQ(w->told.size(), static_cast<size_t>(kEach));
    for (const Told& t : w->told) EXPECT_TRUE(t.result.ok);
  }
  for (const Told& t : waiter0.told) EXPECT_EQ(t.shard, 0);
  for (const Told& t : waiter1.told) EXPECT_EQ(t.shard, 1);
}

}  // namespace
}  // namespace vespid::nodes
