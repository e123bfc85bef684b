// The bus-ABI conformance suite. A bus plugin instantiates it with one line:
//
//   INSTANTIATE_TEST_SUITE_P(Mine, BusConformance, testing::Values(my_backend()), BackendName());
//
// and links vespid_bus_conformance (see tests/bus/README.md). Every case starts a fresh instance
// through the host's own plugin code (host::PluginBus) and uses subjects under a prefix of its
// own, so instances sharing one server do not hear each other.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "backend.hpp"
#include "collector.hpp"
#include "harness.hpp"

namespace vespid::bus_test {

class BusConformance : public testing::TestWithParam<BusBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  BusHarness& harness() { return *harness_; }
  host::PluginBus& bus() { return harness_->bus(); }
  // `rest` under this test's own prefix: "t<random>.<rest>".
  std::string subject(std::string_view rest) const { return prefix_ + std::string(rest); }
  // Subscribes and waits until the subscription is in effect (a probe message got through), so
  // that what the test publishes next is matched against it.
  host::Bus::SubscriptionId subscribe(const std::string& pattern, Collector& into,
                                      const std::string& group = {});
  // Publishes a message on a subject of its own and waits until `c` got it: everything
  // published before it on this instance has been delivered to `c`'s subscription (one
  // publisher's messages arrive in order).
  void barrier(Collector& c, const std::string& probe_subject);

 private:
  std::unique_ptr<BusHarness> harness_;
  std::string prefix_;
};

}  // namespace vespid::bus_test
