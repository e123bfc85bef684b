// The node host's reading of DNS-SD answers (apps/agent/gateway_record.hpp): TXT records are
// written by whatever answers on the LAN, so every byte of them is outside input. The input
// describes a few resolved services (name, address, port, TXT strings) as mdns_browse.cpp hands
// them over; addresses are literals (Avahi prints them), the rest is free.
//
// Invariants: only records that say role=gateway become gateways, one per (name, type, domain);
// a gateway's addresses hold no duplicate and list IPv4 before IPv6; a port read from TXT is
// 1..65535; a pin is 64 lower-case hex digits and only set for a listener that says TLS; the
// URLs it builds are read back by the URL parser the node host dials with (libs/url), with the
// same TLS and port; to_json() always serialises (invalid UTF-8 replaced).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "check.hpp"
#include "dial_url.hpp"
#include "gateway_record.hpp"

namespace {

using vespid::agent::DiscoveredGateway;
using vespid::agent::ResolvedService;

std::string address(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      return "192.168.1." + std::to_string(in.ConsumeIntegral<uint8_t>());
    case 1:
      return "fe80::" + std::to_string(in.ConsumeIntegralInRange(1, 9999)) + "%eth" +
             std::to_string(in.ConsumeIntegralInRange(0, 9));
    case 2:
      return "2001:db8::" + std::to_string(in.ConsumeIntegralInRange(1, 9999));
    default:
      return "";  // resolved without an address
  }
}

std::vector<std::string> txt(FuzzedDataProvider& in) {
  static const char* const keys[] = {
      "role",       "displayName", "lanHost", "tailnetDns",       "gatewayPort",  "apiPort",
      "bridgePort", "gatewayTls",  "apiTls",  "gatewayTlsSha256", "apiTlsSha256", "ROLE"};
  std::vector<std::string> out;
  const int n = in.ConsumeIntegralInRange(0, 12);
  for (int i = 0; i < n; ++i) {
    if (in.ConsumeBool()) {
      out.push_back(std::string(keys[in.ConsumeIntegralInRange<std::size_t>(0, 11)]) + "=" +
                    in.ConsumeRandomLengthString(80));
    } else {
      out.push_back(in.ConsumeRandomLengthString(80));
    }
  }
  return out;
}

// RFC 6763 6.4: the first "role" key counts, compared without case.
bool has_role_gateway(const std::vector<std::string>& txt) {
  for (const auto& kv : txt) {
    const auto eq = kv.find('=');
    std::string key = kv.substr(0, eq);
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (key == "role") return eq != std::string::npos && kv.substr(eq + 1) == "gateway";
  }
  return false;
}

bool is_pin(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

void check_url(const std::string& url, bool tls, uint16_t port, const char* what) {
  if (url.empty()) return;
  vespid::DialUrl u;
  try {
    u = vespid::parse_dial_url(url);
  } catch (const std::invalid_argument&) {
    FUZZ_CHECK(false, what);
  }
  FUZZ_CHECK(u.tls == tls, "a URL with the wrong TLS");
  FUZZ_CHECK(u.port == std::to_string(port), "a URL with the wrong port");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<ResolvedService> found;
  std::set<std::tuple<std::string, std::string, std::string>> gateway_keys;
  const int n = in.ConsumeIntegralInRange(0, 5);
  for (int i = 0; i < n; ++i) {
    ResolvedService s;
    s.name = in.ConsumeBool() ? "Office gateway" : in.ConsumeRandomLengthString(40);
    s.type = "_vespid-gw._tcp";
    s.domain = "local";
    s.host_name = in.ConsumeRandomLengthString(40);
    s.address = address(in);
    s.port = in.ConsumeIntegral<uint16_t>();
    s.txt = txt(in);
    if (has_role_gateway(s.txt)) gateway_keys.insert({s.name, s.type, s.domain});
    found.push_back(std::move(s));
  }

  const auto gateways = vespid::agent::gateways_from(found);
  FUZZ_CHECK(gateways.size() == gateway_keys.size(), "not one gateway per role=gateway instance");
  for (const DiscoveredGateway& g : gateways) {
    FUZZ_CHECK(gateway_keys.count({g.name, g.type, g.domain}) == 1, "a gateway nobody announced");
    const std::set<std::string> unique(g.addresses.begin(), g.addresses.end());
    FUZZ_CHECK(unique.size() == g.addresses.size(), "a duplicate address");
    bool seen_v6 = false;
    for (const auto& a : g.addresses) {
      const bool v6 = a.find(':') != std::string::npos;
      FUZZ_CHECK(!(seen_v6 && !v6), "IPv4 listed after IPv6");
      seen_v6 = seen_v6 || v6;
    }
    FUZZ_CHECK(g.gateway_tls_sha256.empty() || (g.gateway_tls && is_pin(g.gateway_tls_sha256)),
               "a gateway pin that is not one, or without TLS");
    FUZZ_CHECK(g.api_tls_sha256.empty() || (g.api_tls && is_pin(g.api_tls_sha256)),
               "an API pin that is not one, or without TLS");
    check_url(g.api_url(), g.api_tls, g.api_port, "the API URL does not parse");
    check_url(g.gateway_ws_url(), g.gateway_tls, g.gateway_port, "the gateway URL does not parse");
    // As `vespid-agent discover --json` writes it (defect 6: a strict dump failed the whole
    // listing on one record with invalid UTF-8).
    const std::string text =
        g.to_json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    FUZZ_CHECK(nlohmann::json::accept(text), "to_json() does not serialise to JSON");
  }
  return 0;
}
