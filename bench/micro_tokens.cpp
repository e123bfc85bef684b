// Checking a presented secret the way the gateway does (SHA-256 of the token, constant-time
// compare with the stored hash), against the baseline of a plain string comparison, which is
// what the reference did and what leaks timing.
#include <benchmark/benchmark.h>

#include <string>

#include "runtime/crypto.hpp"

namespace {

const std::string kToken =
    "6f1c2b7e-8d4a-4b1e-9a53-2f7f0c1d9e88.q3Jx0c1t7mXyZ-4a2bC9dE8fG7hI6jK5lM4nO3pQ2rS";

void BM_Baseline_StringEquals(benchmark::State& state) {
  std::string stored = kToken;
  for (auto _ : state) {
    bool same = stored == kToken;
    benchmark::DoNotOptimize(same);
  }
}
BENCHMARK(BM_Baseline_StringEquals);

void BM_TokenHashAndConstantTimeCompare(benchmark::State& state) {
  const std::string stored = vespid::crypto::sha256_hex(kToken);
  for (auto _ : state) {
    bool same = vespid::crypto::equal_ct(vespid::crypto::sha256_hex(kToken), stored);
    benchmark::DoNotOptimize(same);
  }
}
BENCHMARK(BM_TokenHashAndConstantTimeCompare);

}  // namespace
