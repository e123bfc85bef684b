// The parts of `discover` that every browse backend shares, without a network: how long a browse
// listens, the zone a link-local address carries, and the names `--browser` accepts.
#include <gtest/gtest.h>
#include <net/if.h>

#include "browse_window.hpp"
#include "mdns_address.hpp"
#include "mdns_browse.hpp"

using namespace vespid::agent;
using namespace std::chrono_literals;

namespace {

TEST(BrowseWindow, ListensForTheWholeWindowEvenWithNothingPending) {
  const auto t0 = BrowseWindow::Clock::now();
  const BrowseWindow w(t0, 3000ms);
  ASSERT_TRUE(w.next_wait(t0, 0).has_value());
  EXPECT_EQ(*w.next_wait(t0, 0), 3001ms);  // rounded up past the deadline
  EXPECT_EQ(*w.next_wait(t0 + 2500ms, 0), 501ms);
}

TEST(BrowseWindow, EndsAtTheDeadlineWhenNothingIsBeingResolved) {
  const auto t0 = BrowseWindow::Clock::now();
  const BrowseWindow w(t0, 1000ms);
  EXPECT_FALSE(w.next_wait(t0 + 1000ms, 0).has_value());
}

TEST(BrowseWindow, GivesResolutionsStillRunningAGraceThenStops) {
  const auto t0 = BrowseWindow::Clock::now();
  const BrowseWindow w(t0, 1000ms);
  ASSERT_TRUE(w.next_wait(t0 + 1000ms, 2).has_value());
  EXPECT_EQ(*w.next_wait(t0 + 1000ms, 2), BrowseWindow::kGrace + 1ms);
  EXPECT_EQ(*w.next_wait(t0 + 1500ms, 1), 501ms);
  EXPECT_FALSE(w.next_wait(t0 + 1000ms + BrowseWindow::kGrace, 1).has_value());
}

TEST(MdnsAddress, OnlyLinkLocalIpv6GetsTheInterfaceAsZone) {
  const unsigned lo = ::if_nametoindex("lo");
  ASSERT_NE(lo, 0u);
  EXPECT_EQ(address_with_zone("fe80::1", lo), "fe80::1%lo");
  EXPECT_EQ(address_with_zone("192.168.1.2", lo), "192.168.1.2");
  EXPECT_EQ(address_with_zone("2001:db8::1", lo), "2001:db8::1");
  EXPECT_EQ(address_with_zone("fe80::1", 0), "fe80::1");   // no interface reported
  EXPECT_EQ(address_with_zone("fe80::1", -1), "fe80::1");  // Avahi's "unspecified"
}

TEST(Browser, NamesRoundTripAndTheDefaultIsBuiltInWhenAnyIs) {
  for (Browser b : {Browser::avahi, Browser::dnssd}) {
    EXPECT_EQ(browser_named(browser_name(b)), b);
  }
  EXPECT_FALSE(browser_named("bonjour").has_value());
  EXPECT_FALSE(browser_named("").has_value());
  if (browser_built_in(Browser::avahi)) {
    EXPECT_EQ(default_browser(), Browser::avahi);  // Linux: avahi unless asked otherwise
  } else if (browser_built_in(Browser::dnssd)) {
    EXPECT_EQ(default_browser(), Browser::dnssd);  // macOS
  }
}

TEST(Browser, OneNotBuiltInSaysSo) {
  for (Browser b : {Browser::avahi, Browser::dnssd}) {
    if (browser_built_in(b)) continue;
    try {
      browse_services(b, "_vespid-gw._tcp", 100ms);
      FAIL() << browser_name(b) << " browsed although not built in";
    } catch (const BrowseError& e) {
      EXPECT_NE(std::string(e.what()).find("built without"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
