// The SDK's C++ helpers that plugins share: which bind specs get a loopback companion.
#include <gtest/gtest.h>

#include <vespid/plugin.hpp>

namespace {

TEST(SdkHelpers, LoopbackCompanionOnlyForSpecsThatDoNotCoverLoopback) {
  EXPECT_FALSE(vsp::bind_spec_wants_loopback_companion("loopback"));
  EXPECT_FALSE(vsp::bind_spec_wants_loopback_companion("lan"));
  EXPECT_FALSE(vsp::bind_spec_wants_loopback_companion("127.0.0.1"));
  EXPECT_FALSE(vsp::bind_spec_wants_loopback_companion("127.8.9.1"));
  EXPECT_FALSE(vsp::bind_spec_wants_loopback_companion("0.0.0.0"));
  EXPECT_FALSE(vsp::bind_spec_wants_loopback_companion("::1"));
  EXPECT_FALSE(vsp::bind_spec_wants_loopback_companion("::"));
  EXPECT_TRUE(vsp::bind_spec_wants_loopback_companion("tailnet"));
  EXPECT_TRUE(vsp::bind_spec_wants_loopback_companion("auto"));
  EXPECT_TRUE(vsp::bind_spec_wants_loopback_companion("100.101.102.103"));
  EXPECT_TRUE(vsp::bind_spec_wants_loopback_companion("fd7a:115c:a1e0::1"));
  EXPECT_TRUE(vsp::bind_spec_wants_loopback_companion("192.168.1.20"));
}

}  // namespace
