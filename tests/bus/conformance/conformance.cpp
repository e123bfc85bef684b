#include "conformance.hpp"

#include <random>

namespace vespid::bus_test {

void BusConformance::SetUp() {
  std::random_device rd;
  prefix_ = "t" + std::to_string(rd()) + std::to_string(rd()) + ".";
  try {
    harness_ = std::make_unique<BusHarness>(GetParam().plugin_id, GetParam().make_config());
    harness_->start();
  } catch (const std::exception& e) {
    FAIL() << "starting a " << GetParam().plugin_id << " bus failed: " << e.what();
  }
  ASSERT_TRUE(bus().up()) << "a bus that started must be up";
}

void BusConformance::TearDown() {
  if (!harness_) return;
  harness_->stop();
  EXPECT_FALSE(harness_->bus().up()) << "a stopped bus is not up";
  EXPECT_TRUE(harness_->services().failures().empty())
      << "the plugin reported a failure: " << harness_->services().failures().front();
  harness_.reset();
}

host::Bus::SubscriptionId BusConformance::subscribe(const std::string& pattern, Collector& into,
                                                    const std::string& group) {
  return bus().subscribe(pattern, group, into.handler());
}

void BusConformance::barrier(Collector& c, const std::string& probe_subject) {
  const size_t before = c.size();
  ASSERT_TRUE(bus().publish(probe_subject, "barrier"));
  ASSERT_TRUE(c.wait_for(before + 1)) << "the barrier on " << probe_subject << " never arrived";
}

}  // namespace vespid::bus_test
