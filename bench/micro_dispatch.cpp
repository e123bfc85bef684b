// Parsing and validating a dispatch request (POST /internal/v1/dispatch-async), against the
// baseline of only parsing the same bytes as JSON: the ratio is what validation adds. The typed
// reading (read_dispatch_request, no DOM) against the same baseline shows what the DOM costs. The
// ids are uuids the reference accepts (version 1-8, variant 8-b), or the parse would throw.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "services/dispatch/dispatch_request.hpp"

namespace {

using nlohmann::json;

const std::string& body() {
  static const std::string text =
      json{{"organizationId", "6f1c2b7e-8d4a-4b1e-9a53-2f7f0c1d9e88"},
           {"requestedByUserId", "0a9b8c7d-6e5f-4a3b-8c1d-0e9f8a7b6c5d"},
           {"runId", "b3c4d5e6-f708-4192-a3b4-c5d6e7f80912"},
           {"workflowId", "4e2d9c1a-7b3f-4d8e-b6a5-1c0f9e8d7a62"},
           {"nodeId", "summarise"},
           {"nodeType", "agent.execute"},
           {"attemptCount", 1},
           {"kind", "agent.execute"},
           {"executorSelector", {{"tag", "gpu"}}},
           {"timeoutMs", 30000},
           {"payload", {{"engine", "vespid.loop.v1"}, {"message", std::string(512, 'x')}}}}
          .dump();
  return text;
}

void BM_Baseline_JsonParse(benchmark::State& state) {
  for (auto _ : state) {
    json j = json::parse(body());
    benchmark::DoNotOptimize(j);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body().size()));
}
BENCHMARK(BM_Baseline_JsonParse);

void BM_ParseDispatchRequest(benchmark::State& state) {
  vespid::dispatch::RequestLimits limits;
  for (auto _ : state) {
    auto r = vespid::dispatch::parse_dispatch_request(json::parse(body()), limits);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body().size()));
}
BENCHMARK(BM_ParseDispatchRequest);

void BM_ReadDispatchRequestTyped(benchmark::State& state) {
  vespid::dispatch::RequestLimits limits;
  for (auto _ : state) {
    auto r = vespid::dispatch::read_dispatch_request(body(), limits);
    if (!r) state.SkipWithError("the typed reading refused the bench's body");
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body().size()));
}
BENCHMARK(BM_ReadDispatchRequestTyped);

}  // namespace
