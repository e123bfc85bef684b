// The parts of `config check` that read text: did-you-mean for a plugin's unknown key, and which
// ws instances serve internal routes beyond loopback (tests/integration/config_first_hour_test
// runs them through the real binary).
#include "gateway/config_probe.hpp"

#include <gtest/gtest.h>

#include "gateway/internal_exposure.hpp"

namespace vespid::core {
namespace {

using nlohmann::json;

TEST(ConfigProbe, APluginsUnknownKeyGetsTheNearestKnownOne) {
  EXPECT_EQ(plugin_key_suggestion("ws: unknown config key \"prot\" (known keys: host, port)"),
            " (did you mean \"port\"?)");
  EXPECT_EQ(
      with_key_suggestion("bridge: unknown config key \"hots\" (known keys: host, port)"),
      "bridge: unknown config key \"hots\" (did you mean \"host\"?) (known keys: host, port)");
  EXPECT_EQ(plugin_key_suggestion(
                "ws: unknown config key \"routes[1].dialekt\" (known keys: path, dialect)"),
            " (did you mean \"dialect\"?)")
      << "a route's key is matched without its path";
  EXPECT_EQ(plugin_key_suggestion("ws: unknown config key \"zzzzzz\" (known keys: host, port)"),
            "");
  EXPECT_EQ(plugin_key_suggestion("sqlite: config key \"path\" must be a string"), "");
}

config::GatewayConfig with_ws(const json& ws_config) {
  config::GatewayConfig cfg;
  cfg.instances.push_back({"storage", "sqlite", json::object(), true, 0});
  cfg.instances.push_back({"web", "ws", ws_config, true, 1});
  return cfg;
}

TEST(ConfigProbe, InternalRoutesBeyondLoopbackAreFound) {
  const json internal_only = json::array({{{"prefix", "/internal/v1/"}, {"dialect", "rest.v1"}}});
  const json public_only =
      json::array({{{"prefix", "/v1/"}, {"dialect", "rest.v1"}},
                   {{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}}});
  const json root_prefix = json::array({{{"prefix", "/"}, {"dialect", "rest.v1"}}});

  EXPECT_TRUE(internal_route_exposures(with_ws(json::object())).empty()) << "127.0.0.1 by default";
  EXPECT_TRUE(internal_route_exposures(with_ws({{"host", "loopback"}})).empty());
  EXPECT_TRUE(internal_route_exposures(with_ws({{"host", "127.1.2.3"}})).empty());
  EXPECT_TRUE(internal_route_exposures(with_ws({{"host", "::ffff:127.0.0.1"}})).empty());
  EXPECT_TRUE(internal_route_exposures(with_ws({{"bind", "loopback"}})).empty());
  EXPECT_TRUE(
      internal_route_exposures(with_ws({{"host", "lan"}, {"routes", public_only}})).empty());

  auto w = internal_route_exposures(with_ws({{"host", "lan"}}));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("plugins.instances[1] (\"web\") serves the internal routes /internal/v1/ "
                      "and /ws/operator beyond loopback, on lan (0.0.0.0) (it has no \"routes\""),
            std::string::npos)
      << w[0];
  w = internal_route_exposures(with_ws({{"bind", "auto"}, {"routes", internal_only}}));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("/internal/v1/ beyond loopback, on auto;"), std::string::npos) << w[0];
  w = internal_route_exposures(with_ws({{"host", "::"}, {"routes", root_prefix}}));
  ASSERT_EQ(w.size(), 1u) << "a \"/\" prefix reaches /internal/v1/ too";
  w = internal_route_exposures(with_ws({{"host", "fd7a:115c:a1e0::5"}, {"routes", internal_only}}));
  ASSERT_EQ(w.size(), 1u);
}

}  // namespace
}  // namespace vespid::core
