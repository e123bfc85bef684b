// VESPID_SKIP_UNLESS_CI itself: a test that cannot run is a skip on a developer's machine and a
// failure in CI. A probe test that never can run is started as a child of this binary, with CI
// set one way or another, and its verdict and exit status are checked.
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "process.hpp"
#include "skip_or_fail.hpp"

namespace vespid::test {
namespace {

// Disabled, so it only runs when a test below asks for it.
TEST(SkipOrFailProbe, DISABLED_CannotRunHere) {
  VESPID_SKIP_UNLESS_CI("the probe can never run"
                        << " (by design)");
}

std::string self_path() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

CommandResult run_probe(const std::string& ci) {
  return run_command(
      {self_path(), "--gtest_filter=SkipOrFailProbe.*", "--gtest_also_run_disabled_tests"},
      {{"CI", ci}});
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(SkipOrFail, WithoutCiATestThatCannotRunIsSkipped) {
  for (const std::string ci : {"", "0", "false"}) {
    const auto r = run_probe(ci);
    EXPECT_EQ(r.exit_code, 0) << "CI=\"" << ci << "\"\n" << r.out << r.err;
    EXPECT_TRUE(has(r.out, "[  SKIPPED ] SkipOrFailProbe.DISABLED_CannotRunHere")) << r.out;
    EXPECT_TRUE(has(r.out, "the probe can never run (by design)")) << r.out;
  }
}

TEST(SkipOrFail, InCiATestThatCannotRunFailsWithTheReason) {
  for (const std::string ci : {"true", "1", "yes"}) {
    const auto r = run_probe(ci);
    EXPECT_NE(r.exit_code, 0) << "CI=\"" << ci << "\"\n" << r.out << r.err;
    EXPECT_TRUE(has(r.out, "[  FAILED  ] SkipOrFailProbe.DISABLED_CannotRunHere")) << r.out;
    EXPECT_FALSE(has(r.out, "[  SKIPPED ]")) << r.out;
    EXPECT_TRUE(has(r.out,
                    "CI is set, so this is a failure and not a skip: the probe can never "
                    "run (by design)"))
        << r.out;
  }
}

}  // namespace
}  // namespace vespid::test
