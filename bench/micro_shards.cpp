// Invokes routed by the core partitioned into shards (ShardedNodeRouter; docs/design.md, "A core
// on more than one thread"), each shard driven by a thread of its own, as each would be by its
// transport's I/O thread. No sockets: a node's link records the invoke and its home's thread
// answers it, so this is the routing's own cost, and whether a second shard adds throughput.
//
//   BM_ShardedInvokes/shards:1/crossing:0/woken:0    one shard, one thread: the baseline
//   BM_ShardedInvokes/shards:2/crossing:0/woken:0    two shards, each invoking a node of its own
//   BM_ShardedInvokes/shards:2/crossing:10/woken:0   one invoke in ten to the other shard's node
//   BM_ShardedInvokes/shards:2/crossing:100/woken:0  every invoke to the other shard's node: it
//                                                    goes to its home and back as messages
//   .../woken:1                                      the same with each shard's thread registered
//                                                    as its waker (as an I/O thread is through
//                                                    io_thread_begin), so that a message waits
//                                                    for it instead of running on the sender
//
// `crossing` is the percentage of invokes whose node is homed in the other shard. With `woken`, a
// wake-up sets a flag the shard's thread looks at after each invoke and while it waits, as an I/O
// thread sees a task queued to its reactor at its next turn; it then drains its Sequencer.
// items_per_second is invokes answered per second over both threads; its ratio to the first
// line's is the scaling.
#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "runtime/deadlines.hpp"
#include "runtime/loop.hpp"
#include "runtime/sequencer.hpp"
#include "services/nodes/sharded_node_router.hpp"

namespace {

using namespace std::chrono_literals;
using vespid::nodes::InvokeResult;

// Touched only inside its home's Sequencer: the send (at the home) and the answers (its thread).
struct alignas(64) HomeLink final : vespid::nodes::NodeLink {
  std::vector<std::string> sent;
  void send_invoke(std::string_view id, std::string_view, std::string_view) override {
    sent.emplace_back(id);
  }
  void close(const std::string&) override {}
  std::string transport_name() const override { return "bench"; }
  std::string remote_address() const override { return "bench"; }
};

// A shard's thread's wake-up: a flag it looks at between invokes.
struct alignas(64) WakeFlag {
  std::atomic<bool> woken{false};
  static bool wake(void* ctx) {
    static_cast<WakeFlag*>(ctx)->woken.store(true, std::memory_order_release);
    return true;
  }
  // The shard's thread: runs what was left for it, if it was woken.
  void answer(vespid::core::Sequencer& shard) {
    if (!woken.load(std::memory_order_acquire)) return;
    woken.store(false, std::memory_order_relaxed);
    shard.drain();
  }
};

// Told inside its caller's shard; read by the driving threads to know when all are in.
struct alignas(64) CountingWaiter final : vespid::nodes::InvokeWaiter {
  std::atomic<uint64_t> told{0};
  void invoke_done(InvokeResult&&) override {
    told.store(told.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};

void BM_ShardedInvokes(benchmark::State& state) {
  const auto shards = static_cast<uint32_t>(state.range(0));
  const auto crossing_percent = static_cast<uint64_t>(state.range(1));
  const bool woken = state.range(2) != 0;
  constexpr uint64_t kPerThread = 20000;

  vespid::core::Loop loop;
  std::vector<std::unique_ptr<vespid::core::Sequencer>> sequencers;
  std::vector<std::unique_ptr<vespid::core::Deadlines>> deadlines;
  std::vector<vespid::nodes::ShardedNodeRouter::Shard> spec;
  for (uint32_t s = 0; s < shards; ++s) {
    sequencers.push_back(std::make_unique<vespid::core::Sequencer>());
    deadlines.push_back(std::make_unique<vespid::core::Deadlines>(loop, *sequencers.back()));
    spec.push_back({sequencers.back().get(), deadlines.back().get()});
  }
  std::vector<std::shared_ptr<HomeLink>> links;
  std::vector<std::unique_ptr<CountingWaiter>> waiters;
  std::vector<std::unique_ptr<WakeFlag>> flags;
  for (uint32_t s = 0; s < shards; ++s) {
    flags.push_back(std::make_unique<WakeFlag>());
    if (woken) sequencers[s]->add_waker(&WakeFlag::wake, flags[s].get());
  }
  {
    vespid::nodes::ShardedNodeRouter router(spec, 1 << 20);
    for (uint32_t s = 0; s < shards; ++s) {
      links.push_back(std::make_shared<HomeLink>());
      waiters.push_back(std::make_unique<CountingWaiter>());
      vespid::nodes::ConnectedNode n;
      n.node_id = "node-" + std::to_string(s);
      n.org_id = "org";
      n.commands = {"system.echo"};
      n.link = links.back();
      sequencers[s]->execute([&] { router.attach(s, std::move(n)); });
    }
    const std::string params = R"({"text":"ping"})";
    uint64_t expected_per_waiter = 0;

    // One shard's thread: invokes its target node, then answers what its own node was sent.
    // What it hands its shard names nothing on this stack: a shard that is busy (the other
    // thread inside it, for a crossing invoke) runs it later, perhaps after this returns.
    auto drive = [&](uint32_t s) {
      auto answer = [r = &router, own = links[s].get(), s] {
        for (const std::string& id : own->sent) {
          InvokeResult result;
          result.ok = true;
          result.payload_json = R"({"text":"pong"})";
          r->complete(s, own, id, std::move(result));
        }
        own->sent.clear();
      };
      auto invoke = [r = &router, p = &params, w = waiters[s].get(), answer,
                     own_node = "node-" + std::to_string(s),
                     other_node = "node-" + std::to_string((s + 1) % shards)](bool cross) {
        r->start_invoke(cross ? other_node : own_node, "system.echo", *p, 30000ms, *w);
        answer();
      };
      for (uint64_t i = 0; i < kPerThread; ++i) {
        const bool cross = i % 100 < crossing_percent;
        sequencers[s]->execute([invoke, cross] { invoke(cross); });
        flags[s]->answer(*sequencers[s]);
      }
      // The other shard may still send here: answer until every waiter has heard back.
      auto all_told = [&] {
        for (auto& w : waiters)
          if (w->told.load(std::memory_order_relaxed) < expected_per_waiter) return false;
        return true;
      };
      while (!all_told()) {
        flags[s]->answer(*sequencers[s]);
        sequencers[s]->execute(answer);
        std::this_thread::yield();
      }
    };

    for (auto _ : state) {
      expected_per_waiter += kPerThread;
      std::vector<std::thread> threads;
      for (uint32_t s = 1; s < shards; ++s) threads.emplace_back(drive, s);
      drive(0);
      for (auto& t : threads) t.join();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPerThread * shards));
  }
  for (auto& d : deadlines) d->shutdown();
  loop.io().poll();
}
BENCHMARK(BM_ShardedInvokes)
    ->ArgNames({"shards", "crossing", "woken"})
    ->Args({1, 0, 0})
    ->Args({2, 0, 0})
    ->Args({2, 10, 0})
    ->Args({2, 100, 0})
    ->Args({2, 10, 1})
    ->Args({2, 100, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
