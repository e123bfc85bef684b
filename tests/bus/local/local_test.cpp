// The local bus's own tests, beyond the conformance suite: its config keys and their refusals,
// the bounded queue (max_queued_bytes) refusing with VSP_E_OVERFLOW while subscribers are slow,
// a stop that fails waiting requests, and a default request timeout.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "conformance/collector.hpp"
#include "conformance/harness.hpp"

namespace vespid::bus_test {
namespace {

using namespace std::chrono_literals;

std::string start_error(const std::string& config) {
  BusHarness h("local", config);
  try {
    h.start();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(started)";
}

TEST(LocalBus, ConfigErrorsNameTheKey) {
  EXPECT_EQ(start_error(R"({"max_payload_bytes": 0})"),
            "local bus: \"max_payload_bytes\" must be an integer from 1 to 67108864");
  EXPECT_EQ(start_error(R"({"max_queued_bytes": "lots"})"),
            "local bus: \"max_queued_bytes\" must be an integer from 1024 to 1099511627776");
  EXPECT_EQ(start_error(R"({"request_timeout_ms": 1.5})"),
            "local bus: \"request_timeout_ms\" must be an integer from 1 to 3600000");
  EXPECT_EQ(start_error(R"({"max_payload": 5})"),
            "local bus: unknown config key \"max_payload\" (known keys: max_payload_bytes, "
            "max_queued_bytes, request_timeout_ms)");
  EXPECT_NE(start_error(R"({"max_payload_bytes": 4096, "max_queued_bytes": 2048})")
                .find("\"max_queued_bytes\" (2048) must be at least \"max_payload_bytes\" (4096)"),
            std::string::npos);
  EXPECT_EQ(start_error("{}"), "(started)");
}

TEST(LocalBus, AFullQueueRefusesWithOverflowUntilSubscribersCatchUp) {
  BusHarness h("local", R"({"max_payload_bytes": 1000, "max_queued_bytes": 10000})");
  h.start();
  auto& bus = h.bus();
  std::atomic<bool> release{false};
  Collector c;
  bus.subscribe("slow.q", "", c.handler([&](const host::BusMessage&) {
    while (!release) std::this_thread::sleep_for(1ms);
  }));
  const std::string payload(900, 'x');
  std::string why;
  ASSERT_EQ(bus.try_publish("slow.q", payload, {}, &why), VSP_OK) << why;  // taken, blocking
  ASSERT_TRUE(c.wait_for(0));
  std::this_thread::sleep_for(50ms);  // the delivery thread is inside the handler now
  int accepted = 0, rc = VSP_OK;
  while ((rc = bus.try_publish("slow.q", payload, {}, &why)) == VSP_OK) ++accepted;
  EXPECT_EQ(rc, VSP_E_OVERFLOW);
  EXPECT_NE(why.find("max_queued_bytes (10000)"), std::string::npos) << why;
  EXPECT_EQ(accepted, 10000 / (900 + 6));  // subject and payload count
  release = true;
  ASSERT_TRUE(c.wait_for(accepted + 1));
  EXPECT_EQ(bus.try_publish("slow.q", payload, {}, &why), VSP_OK) << "room again: " << why;
  h.stop();
}

TEST(LocalBus, StopFailsWaitingRequestsWithDown) {
  BusHarness h("local", "{}");
  h.start();
  Collector c;
  h.bus().subscribe("never.answers", "", c.handler());
  ReplyWaiter w;
  h.bus().request("never.answers", "x", 60s, w.done());
  ASSERT_TRUE(c.wait_for(1));
  const auto t0 = std::chrono::steady_clock::now();
  h.stop();
  ASSERT_TRUE(w.wait(1s));
  EXPECT_EQ(w.reply().status, host::BusStatus::Down) << w.reply().error;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(LocalBus, AZeroTimeoutTakesTheConfiguredDefault) {
  BusHarness h("local", R"({"request_timeout_ms": 200})");
  h.start();
  Collector c;
  h.bus().subscribe("quiet", "", c.handler());
  ReplyWaiter w;
  const auto t0 = std::chrono::steady_clock::now();
  h.bus().request("quiet", "x", 0ms, w.done());
  ASSERT_TRUE(w.wait());
  EXPECT_EQ(w.reply().status, host::BusStatus::Timeout);
  EXPECT_GE(w.at() - t0, 180ms);
  EXPECT_LT(w.at() - t0, 3s);
  h.stop();
}

TEST(LocalBus, QueueGroupsTakeTurnsAcrossPatterns) {
  // Members of one group on different patterns share the messages both match, like NATS.
  BusHarness h("local", "{}");
  h.start();
  Collector a, b;
  h.bus().subscribe("rr.*", "g", a.handler());
  h.bus().subscribe("rr.>", "g", b.handler());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(h.bus().publish("rr.x", std::to_string(i)));
  ASSERT_TRUE(a.wait_for(5));
  ASSERT_TRUE(b.wait_for(5));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(a.size() + b.size(), 10u);
  h.stop();
}

TEST(LocalBus, ListedAsABusPlugin) {
  auto found = BusHarness::catalog().find("local");
  EXPECT_EQ(found.plugin->kind, VSP_KIND_BUS);
  EXPECT_EQ(found.module->name, "vespid-localbus");
  EXPECT_EQ(found.module->abi_minor, static_cast<uint32_t>(VSP_ABI_MINOR)) << "built with this SDK";
}

}  // namespace
}  // namespace vespid::bus_test
