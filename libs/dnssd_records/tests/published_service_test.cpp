// The rules both DNS-SD publishers share: label length, collision names, copying a record, config.
#include "published_service.hpp"

#include <gtest/gtest.h>

#include <vespid/plugin.hpp>

namespace vespid::dnssd {
namespace {

TEST(DnsLabel, KeepsShortNamesAndCutsLongOnesAtACharacter) {
  EXPECT_EQ(dns_label("Office gateway"), "Office gateway");
  EXPECT_EQ(dns_label(std::string(70, 'a')), std::string(63, 'a'));
  // 62 ASCII bytes then "é" (2 bytes): the 63rd byte is inside "é", so the cut falls before it.
  const std::string name = std::string(62, 'a') + "\xC3\xA9" + "z";
  EXPECT_EQ(dns_label(name), std::string(62, 'a'));
}

TEST(AlternativeName, CountsUpFromTwoAsAvahiDoes) {
  EXPECT_EQ(alternative_name("Vespid Test GW"), "Vespid Test GW #2");
  EXPECT_EQ(alternative_name("Vespid Test GW #2"), "Vespid Test GW #3");
  EXPECT_EQ(alternative_name("GW #9"), "GW #10");
  // Not a counter of ours: appended to, not incremented.
  EXPECT_EQ(alternative_name("Room #0"), "Room #0 #2");
  EXPECT_EQ(alternative_name("Room #a1"), "Room #a1 #2");
  EXPECT_EQ(alternative_name("Room #"), "Room # #2");
}

TEST(AlternativeName, StaysOneLabel) {
  const std::string alt = alternative_name(std::string(63, 'x'));
  EXPECT_EQ(alt.size(), 63u);
  EXPECT_EQ(alt, std::string(60, 'x') + " #2");
  // The cut never splits a UTF-8 sequence: "é" straddling byte 60 goes whole.
  const std::string alt2 = alternative_name(std::string(59, 'x') + "\xC3\xA9" + "yy");
  EXPECT_EQ(alt2, std::string(59, 'x') + " #2");
}

vsp_service_record record(const char* name, const char* const* txt, size_t n) {
  vsp_service_record r{};
  r.struct_size = sizeof r;
  r.instance_name = name;
  r.service_type = "_vespid-bridge._tcp";
  r.port = 18790;
  r.txt = txt;
  r.txt_count = n;
  return r;
}

TEST(PublishedService, CopiesTheRecordAndKeepsARenameWhileTheNameStays) {
  const char* txt[] = {"role=gateway", nullptr, "bridgePort=18790"};
  PublishedService s;
  s.assign(record("GW", txt, 3), "test");
  EXPECT_EQ(s.wanted_name, "GW");
  EXPECT_EQ(s.name, "GW");
  EXPECT_EQ(s.type, "_vespid-bridge._tcp");
  EXPECT_EQ(s.domain, "");
  EXPECT_EQ(s.host, "");
  EXPECT_EQ(s.port, 18790);
  EXPECT_EQ(s.txt, (std::vector<std::string>{"role=gateway", "bridgePort=18790"}));

  s.name = alternative_name(s.name);  // a collision happened
  s.assign(record("GW", txt, 1), "test");
  EXPECT_EQ(s.name, "GW #2") << "a replaced record keeps its rename";
  EXPECT_EQ(s.txt, (std::vector<std::string>{"role=gateway"}));

  s.assign(record("Other", txt, 1), "test");
  EXPECT_EQ(s.name, "Other") << "a new name starts over";
}

TEST(PublishedService, RefusesARecordWithoutNameOrType) {
  PublishedService s;
  vsp_service_record r = record(nullptr, nullptr, 0);
  try {
    s.assign(r, "dnssd");
    FAIL() << "accepted a record without a name";
  } catch (const vsp::Error& e) {
    EXPECT_EQ(e.status(), VSP_E_INVALID);
    EXPECT_NE(std::string(e.what()).find("dnssd: a record needs"), std::string::npos) << e.what();
  }
}

struct Entry : PublishedService {
  int registrations = 0;
};

TEST(ServiceTable, HandsOutHandlesReplacesAndForgets) {
  ServiceTable<Entry> table;
  const char* txt[] = {"role=gateway"};
  uint64_t a = 0, b = 0;
  Entry& first = table.put(record("A", txt, 1), &a, "test");
  first.registrations = 1;
  table.put(record("B", txt, 1), &b, "test");
  EXPECT_NE(a, 0u);
  EXPECT_NE(b, 0u);
  EXPECT_NE(a, b);

  uint64_t same = a;
  Entry& replaced = table.put(record("A2", txt, 1), &same, "test");
  EXPECT_EQ(same, a);
  EXPECT_EQ(&replaced, &first) << "the same handle replaces in place";
  EXPECT_EQ(replaced.registrations, 1);
  EXPECT_EQ(replaced.name, "A2");

  // A bad record keeps nothing and leaves the handle alone.
  uint64_t none = 0;
  EXPECT_THROW(table.put(record(nullptr, txt, 1), &none, "test"), vsp::Error);
  EXPECT_EQ(none, 0u);
  EXPECT_THROW(table.put(record("A", txt, 1), nullptr, "test"), vsp::Error);

  auto gone = table.take(a);
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->name, "A2");
  EXPECT_EQ(table.take(a), nullptr);
  EXPECT_EQ(table.take(12345), nullptr);
  int left = 0;
  for (auto& [h, e] : table) {
    EXPECT_EQ(h, b);
    EXPECT_EQ(e->name, "B");
    ++left;
  }
  EXPECT_EQ(left, 1);
}

TEST(PublisherConfig, ReadsReconnectMsAndRefusesTheRest) {
  EXPECT_EQ(parse_publisher_config("", "dnssd").reconnect_ms, 5000u);
  EXPECT_EQ(parse_publisher_config(R"({"reconnect_ms": 250})", "dnssd").reconnect_ms, 250u);
  EXPECT_THROW(parse_publisher_config(R"({"reconnect_ms": 50})", "dnssd"), vsp::Error);
  EXPECT_THROW(parse_publisher_config(R"({"reconnect_ms": "5s"})", "dnssd"), vsp::Error);
  try {
    parse_publisher_config(R"({"interface": "eth0"})", "dnssd");
    FAIL();
  } catch (const vsp::Error& e) {
    EXPECT_NE(std::string(e.what()).find("dnssd: unknown config key \"interface\""),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace vespid::dnssd
