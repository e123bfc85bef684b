// The dnssd browser's TXT reading (dnssd_txt.hpp): a TXT record as dns_sd.h hands it over becomes
// the same "key=value" strings the avahi browser gets, so gateway_record.hpp reads a gateway the
// same way from either. Uses dns_sd's TXTRecord* helpers only; no daemon.
#include "dnssd_txt.hpp"

#include <dns_sd.h>
#include <gtest/gtest.h>

#include "avahi_compat.hpp"
#include "gateway_record.hpp"

using namespace vespid::agent;

namespace {

std::vector<std::string> strings_of(const std::string& rdata) {
  return txt_strings(rdata.data(), static_cast<std::uint16_t>(rdata.size()));
}

// A TXT record's wire form: each item a length byte and that many bytes.
std::string rdata(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    out += static_cast<char>(i.size());
    out += i;
  }
  return out;
}

TEST(DnssdTxt, ReadsItemsInOrderWithEmptyAndMissingValues) {
  EXPECT_EQ(strings_of(rdata({"role=gateway", "apiTls=1", "flag", "empty=", "a=b=c"})),
            (std::vector<std::string>{"role=gateway", "apiTls=1", "flag", "empty=", "a=b=c"}));
}

TEST(DnssdTxt, AnEmptyRecordHasNoItems) {
  EXPECT_TRUE(txt_strings(nullptr, 0).empty());
  EXPECT_TRUE(strings_of("").empty());
}

TEST(DnssdTxt, ARecordBuiltByTxtRecordCreateReadsBack) {
  vespid::dnssd::quiet_avahi_compat_warning();
  TXTRecordRef t;
  TXTRecordCreate(&t, 0, nullptr);
  ASSERT_EQ(TXTRecordSetValue(&t, "role", 7, "gateway"), kDNSServiceErr_NoError);
  ASSERT_EQ(TXTRecordSetValue(&t, "apiPort", 4, "3001"), kDNSServiceErr_NoError);
  const auto items = txt_strings(TXTRecordGetBytesPtr(&t), TXTRecordGetLength(&t));
  TXTRecordDeallocate(&t);
  EXPECT_EQ(items, (std::vector<std::string>{"role=gateway", "apiPort=3001"}));
}

// The point of the shared reading: the same record through either browser is the same gateway.
TEST(DnssdTxt, GivesTheSameGatewayAsAvahisStringList) {
  const std::vector<std::string> avahi = {"role=gateway", "gatewayPort=3002", "apiPort=3001",
                                          "apiTls=1", "ROLE=ignored"};
  auto resolved = [](std::vector<std::string> txt) {
    return ResolvedService{"GW", "_vespid-gw._tcp", "local", "gw.local", "10.0.0.1", 3002, txt};
  };
  const auto a = gateways_from({resolved(avahi)});
  const auto d = gateways_from({resolved(strings_of(rdata(avahi)))});
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(a[0].to_json(), d[0].to_json());
  EXPECT_EQ(d[0].api_url(), "https://10.0.0.1:3001");
}

}  // namespace
