// What a pick reads of a node host's capabilities (services/nodes/host_capabilities.hpp), read
// once when they are set: the same answers the JSON gave when it was read on every pick.
#include "services/nodes/host_capabilities.hpp"

#include <gtest/gtest.h>

namespace vespid::nodes {
namespace {

using nlohmann::json;

TEST(HostCapabilities, AHostThatListsNoKindsTakesEveryKind) {
  for (const json& caps : {json::object(), json{{"kinds", json::array()}}, json{{"kinds", "x"}},
                           json{{"kinds", nullptr}}, json(nullptr), json::array()}) {
    const HostCapabilities c(caps);
    EXPECT_TRUE(c.takes_kind("agent.run")) << caps.dump();
    EXPECT_TRUE(c.takes_connector("github")) << caps.dump();
    EXPECT_EQ(c.max_in_flight(), std::nullopt) << caps.dump();
  }
}

TEST(HostCapabilities, AListedKindIsTakenAndNoOther) {
  const HostCapabilities c(json{{"kinds", {"agent.run", 7, "connector.action"}}});
  EXPECT_TRUE(c.takes_kind("agent.run"));
  EXPECT_TRUE(c.takes_kind("connector.action"));
  EXPECT_FALSE(c.takes_kind("agent.execute"));
  EXPECT_FALSE(c.takes_kind("7"));  // only string entries name kinds
}

TEST(HostCapabilities, AListOfNoStringsTakesNothing) {
  // Non-empty, so the host did list kinds; none of them is a name.
  const HostCapabilities c(json{{"kinds", {1, true}}, {"connectors", {json::object()}}});
  EXPECT_FALSE(c.takes_kind("agent.run"));
  EXPECT_FALSE(c.takes_connector("github"));
}

TEST(HostCapabilities, ConnectorsAreReadLikeKinds) {
  const HostCapabilities c(json{{"connectors", {"github", "slack"}}});
  EXPECT_TRUE(c.takes_connector("slack"));
  EXPECT_FALSE(c.takes_connector("jira"));
  EXPECT_TRUE(c.takes_kind("connector.action"));
}

TEST(HostCapabilities, MaxInFlightIsAnIntegerClampedToItsRange) {
  EXPECT_EQ(HostCapabilities(json{{"maxInFlight", 4}}).max_in_flight(), 4);
  EXPECT_EQ(HostCapabilities(json{{"maxInFlight", 0}}).max_in_flight(), 1);
  EXPECT_EQ(HostCapabilities(json{{"maxInFlight", -3}}).max_in_flight(), 1);
  EXPECT_EQ(HostCapabilities(json{{"maxInFlight", 5000000}}).max_in_flight(), 100000);
  EXPECT_EQ(HostCapabilities(json{{"maxInFlight", 2.5}}).max_in_flight(), std::nullopt);
  EXPECT_EQ(HostCapabilities(json{{"maxInFlight", "8"}}).max_in_flight(), std::nullopt);
}

TEST(HostCapabilities, TheJsonIsKeptAsGiven) {
  const json caps{{"kinds", {"agent.run"}}, {"os", "linux"}, {"maxInFlight", 3}};
  EXPECT_EQ(HostCapabilities(caps).json(), caps);
  EXPECT_EQ(HostCapabilities().json(), json::object());
}

}  // namespace
}  // namespace vespid::nodes
