// Readable names for the uuids a dispatch must carry (the reference refuses anything else):
// test_uuid("run-1") is the same uuid in every test and every run, so tests keep saying which
// run they mean, and request_id("run-1", 2) is that run's "<uuid>:node-a:2".
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace vespid::test {

// A version-8 uuid (RFC 9562's form for ids made by one's own rule) from a hash of `name`:
// deterministic, lower case, and accepted wherever a uuid is required. The hash is FNV-1a,
// mixed by splitmix64's finaliser so that "run-1" and "run-2" differ from the first digit.
inline std::string test_uuid(std::string_view name) {
  auto mix = [](uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
  const uint64_t hi = mix(h);
  const uint64_t lo = mix(hi ^ 0x9e3779b97f4a7c15ULL);
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-8%03x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xfff),
                static_cast<unsigned>(0x8000 | ((lo >> 48) & 0x3fff)),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return text;
}

// The requestId the gateway gives attempt `attempt` of the run named `run` on workflow node
// `node` (the node of every dispatch_body).
inline std::string request_id(std::string_view run, int attempt = 1,
                              std::string_view node = "node-a") {
  return test_uuid(run) + ":" + std::string(node) + ":" + std::to_string(attempt);
}

}  // namespace vespid::test
