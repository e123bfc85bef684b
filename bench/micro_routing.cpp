// Routing one invoke through the core's LocalNodeRouter: the in-flight check, the pending-table
// entry and its deadline, the send to the node's link, and the completion that resumes the
// caller. No sockets: the link records the invoke and the bench answers it, so this is the
// core's own cost per invoke. Baselines in the same run: a coroutine that only co_returns
// (the machinery every core call pays) and a string-keyed map insert+erase (the pending table's
// floor).
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <unordered_map>

#include "runtime/deadlines.hpp"
#include "runtime/loop.hpp"
#include "services/nodes/node_router.hpp"

namespace {

using vespid::core::Task;
using namespace std::chrono_literals;

struct RecordingLink final : vespid::nodes::NodeLink {
  std::string last_id;
  void send_invoke(std::string_view id, std::string_view, std::string_view) override {
    last_id = id;
  }
  void close(const std::string&) override {}
  std::string transport_name() const override { return "bench"; }
  std::string remote_address() const override { return "bench"; }
};

Task<int> just_return(int v) {
  co_return v;
}

void BM_Baseline_SpawnTrivialCoroutine(benchmark::State& state) {
  int sum = 0;
  for (auto _ : state) {
    vespid::core::spawn<int>(
        just_return(1), [&sum](int v) { sum += v; }, [](std::exception_ptr) {});
  }
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_Baseline_SpawnTrivialCoroutine);

void BM_Baseline_PendingMapInsertErase(benchmark::State& state) {
  std::unordered_map<std::string, int> pending;
  uint64_t n = 0;
  for (auto _ : state) {
    std::string id = std::to_string(++n);
    pending.emplace(id, 1);
    pending.erase(id);
  }
  benchmark::DoNotOptimize(pending.size());
}
BENCHMARK(BM_Baseline_PendingMapInsertErase);

void BM_RouteOneInvoke(benchmark::State& state) {
  vespid::core::Loop loop;
  vespid::core::Deadlines deadlines(loop);
  {
    vespid::nodes::LocalNodeRouter router(deadlines, 64);
    auto link = std::make_shared<RecordingLink>();
    vespid::nodes::ConnectedNode node;
    node.node_id = "phone-1";
    node.org_id = "org";
    node.commands = {"system.echo"};
    node.link = link;
    router.attach(std::move(node));
    const std::string params = R"({"text":"ping"})";
    int answered = 0;
    for (auto _ : state) {
      vespid::core::spawn<vespid::nodes::InvokeResult>(
          router.invoke("phone-1", "system.echo", params, 30000ms),
          [&answered](vespid::nodes::InvokeResult r) { answered += r.ok ? 1 : 0; },
          [](std::exception_ptr) {});
      vespid::nodes::InvokeResult r;
      r.ok = true;
      r.payload_json = R"({"text":"pong"})";
      router.complete(link.get(), link->last_id, std::move(r));
    }
    if (answered != static_cast<int>(state.iterations())) state.SkipWithError("invoke lost");
  }
  deadlines.shutdown();
  loop.io().poll();  // the deadline timer's cancellations
}
BENCHMARK(BM_RouteOneInvoke);

}  // namespace
