#include "burst.hpp"

#include <gtest/gtest.h>

#include "conformance/collector.hpp"

namespace vespid::bus_test::nats {

using namespace std::chrono_literals;

void expect_a_burst_arrives(BusHarness& from, BusHarness& to, const std::string& subject) {
  constexpr int kCount = 6;
  constexpr size_t kSize = 1024 * 1024 - 64;
  Collector got;
  to.bus().subscribe(subject, "", got.handler());
  const std::string ready_subject = subject + ".ready";
  to.bus().subscribe(ready_subject, "",
                     [&to](const host::BusMessage& m) { to.bus().publish(m.reply_to, "ready"); });
  // `to`'s own request is answered only after the server took its subscriptions: it handles a
  // connection's subscriptions and publishes in order.
  ReplyWaiter ready;
  to.bus().request(ready_subject, "", 5s, ready.done());
  ASSERT_TRUE(ready.wait());
  ASSERT_EQ(ready.reply().status, host::BusStatus::Ok) << ready.reply().error;

  for (int i = 0; i < kCount; ++i) {
    std::string payload(kSize, static_cast<char>('a' + i));
    payload.replace(0, 2, std::to_string(10 + i));
    std::string why;
    ASSERT_EQ(from.bus().try_publish(subject, payload, {}, &why), VSP_OK) << i << ": " << why;
  }
  // Nothing is published after the burst: its tail reaches the wire without a later write.
  ASSERT_TRUE(got.wait_for(kCount, 30s)) << "arrived: " << got.size() << " of " << kCount;
  const auto all = got.all();
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(all[i].data.size(), kSize) << i;
    EXPECT_EQ(all[i].data.substr(0, 2), std::to_string(10 + i)) << "out of order at " << i;
    EXPECT_EQ(all[i].data.find_first_not_of(static_cast<char>('a' + i), 2), std::string::npos)
        << "payload " << i << " arrived changed";
  }
}

}  // namespace vespid::bus_test::nats
