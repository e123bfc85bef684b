// What the bus conformance suite needs to know about one bus plugin (tests/bus/README.md).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <string>

namespace vespid::bus_test {

struct BusBackend {
  std::string name;       // test-name suffix: letters, digits, '_'
  std::string plugin_id;  // "local", "nats": found in this build's plugin directory
  // The instance config for one test (called once per test, and again for a second instance).
  std::function<std::string()> make_config;
  size_t max_payload;  // the largest payload the bus carries with this config
  // Whether queue groups take turns strictly (local); otherwise a member is picked at random.
  bool round_robin = false;
};

// For INSTANTIATE_TEST_SUITE_P: names each instantiation by BusBackend::name.
struct BackendName {
  std::string operator()(const testing::TestParamInfo<BusBackend>& info) const {
    return info.param.name;
  }
};

}  // namespace vespid::bus_test
