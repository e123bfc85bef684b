// parse_cidr and contains: the matching the tailnet plugin and `vespid-gateway dns-sd-zone`
// share.
#include "cidr.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace vespid::netaddr {
namespace {

bool contains_text(const Cidr& range, const char* address) {
  unsigned char raw[16] = {};
  const int family = std::string(address).find(':') == std::string::npos ? AF_INET : AF_INET6;
  EXPECT_EQ(inet_pton(family, address, raw), 1) << address;
  return contains(range, family, raw);
}

std::string error_of(const std::string& text) {
  try {
    parse_cidr(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(parsed)";
}

TEST(Cidr, MatchesInsideThePrefixOnly) {
  const Cidr cgnat = parse_cidr("100.64.0.0/10");
  EXPECT_EQ(cgnat.family, AF_INET);
  EXPECT_EQ(cgnat.prefix, 10u);
  EXPECT_TRUE(contains_text(cgnat, "100.64.0.1"));
  EXPECT_TRUE(contains_text(cgnat, "100.127.255.254"));
  EXPECT_FALSE(contains_text(cgnat, "100.128.0.1"));
  EXPECT_FALSE(contains_text(cgnat, "fd7a:115c:a1e0::1"));  // other family

  const Cidr ula = parse_cidr("fd7a:115c:a1e0::/48");
  EXPECT_TRUE(contains_text(ula, "fd7a:115c:a1e0:ab12::1"));
  EXPECT_FALSE(contains_text(ula, "fd7a:115c:a1e1::1"));

  EXPECT_TRUE(contains_text(parse_cidr("0.0.0.0/0"), "192.0.2.7"));
}

TEST(Cidr, DefaultTailnetRangesAreTailscales) {
  const auto ranges = default_tailnet_ranges();
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].text, "100.64.0.0/10");
  EXPECT_EQ(ranges[1].text, "fd7a:115c:a1e0::/48");
}

TEST(Cidr, RefusesWhatIsNotARange) {
  EXPECT_EQ(error_of("100.64.0.0"), "missing /prefix");
  EXPECT_EQ(error_of("tailnet/10"), "\"tailnet\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(error_of("100.64.0.0/33"), "prefix length must be 0 to 32");
  EXPECT_EQ(error_of("fd7a::/129"), "prefix length must be 0 to 128");
  EXPECT_EQ(error_of("100.64.0.0/"), "prefix length must be 0 to 32");
}

}  // namespace
}  // namespace vespid::netaddr
