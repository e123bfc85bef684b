// Tests that need what a machine may lack (root for network namespaces, avahi, socat, openssl)
// skip on a developer's machine but fail in CI: there a skip would hide a suite that quietly
// stopped running. CI is recognised by the CI environment variable (.ci/run is started as
// `CI=true bash .ci/run`; most CI services set it too). The rule: docs/testing.md.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

namespace vespid::test {

// True when a test that cannot run here must fail instead of skipping: CI is set to anything
// but "", "0" or "false" (so CI=false on a laptop keeps the skip).
inline bool skipping_is_failure() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  const std::string_view v(ci);
  return !v.empty() && v != "0" && v != "false";
}

// True in a build whose sanitizer replaces malloc (AddressSanitizer, ThreadSanitizer): heap
// measurements mean nothing there. A property of the build, not of the machine.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitizerAllocator = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
inline constexpr bool kSanitizerAllocator = true;
#else
inline constexpr bool kSanitizerAllocator = false;
#endif
#else
inline constexpr bool kSanitizerAllocator = false;
#endif

}  // namespace vespid::test

// Use instead of GTEST_SKIP: skips the current test with `reason` (anything that streams into a
// gtest message, e.g. `tool << " is not installed"`), or fails it when CI is set. Like
// GTEST_SKIP it returns, so only from a void function (a test body, SetUp).
#define VESPID_SKIP_UNLESS_CI(reason)                                                         \
  do {                                                                                        \
    if (::vespid::test::skipping_is_failure()) {                                              \
      GTEST_FAIL() << "cannot run here, and CI is set, so this is a failure and not a skip: " \
                   << reason;                                                                 \
    }                                                                                         \
    GTEST_SKIP() << reason;                                                                   \
  } while (0)

// Skips everywhere, CI included: only for a test that this build's configuration makes
// meaningless (kSanitizerAllocator), never for something a machine lacks. Every build CI makes
// without that property still runs the test.
#define VESPID_SKIP_IN_THIS_BUILD(reason) GTEST_SKIP() << reason
