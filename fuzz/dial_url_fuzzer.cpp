// libs/url (dial_url.hpp): the http/https/ws/wss URLs the node host and the CLI dial, read from
// the command line, from a gateway's pairing answer (gatewayWsUrl) and from discovery.
//
// Invariants: parse_dial_url throws std::invalid_argument and nothing else; a URL it accepts has
// a known scheme, TLS exactly for https and wss, a port from 1 to 65535, a host, and a request
// target starting with '/'; what it puts on the wire (host, Host header, target) holds no
// whitespace or control character; and the URL rebuilt from its parts reads back the same.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "check.hpp"
#include "dial_url.hpp"
#include "known_bugs.hpp"

namespace {

bool wire_safe(std::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

// Digits worth 1 to 65535 (leading zeros are kept as written: "h:000080" dials port 80).
bool is_port(const std::string& p) {
  if (p.empty()) return false;
  unsigned long n = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<unsigned long>(c - '0');
    if (n > 65535) return false;
  }
  return n >= 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  vespid::DialUrl u;
  try {
    u = vespid::parse_dial_url(text);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  FUZZ_CHECK(u.scheme == "http" || u.scheme == "https" || u.scheme == "ws" || u.scheme == "wss",
             "an unknown scheme accepted");
  FUZZ_CHECK(u.tls == (u.scheme == "https" || u.scheme == "wss"), "TLS does not match the scheme");
  FUZZ_CHECK(is_port(u.port), "a port outside 1..65535");
  FUZZ_CHECK(!u.host.empty(), "no host");
  FUZZ_CHECK(!u.target.empty() && u.target.front() == '/', "a target that is not a path");
  FUZZ_CHECK(wire_safe(u.target), "whitespace or a control character in the request target");
  if (vespid::fuzz::check_known_bugs()) {
    // Known defect 5: the IPv6 zone ("%eth0") is set aside before Boost.URL reads the URL and is
    // put back unchecked, so anything between '%' and ']' reaches the host and Host header.
    FUZZ_CHECK(wire_safe(u.host), "whitespace or a control character in the host");
    FUZZ_CHECK(wire_safe(u.host_header()), "whitespace or a control character in Host");
  }
  if (u.host.find('%') != std::string::npos) return 0;  // a zone: not a URL Boost.URL reads back
  const std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  const std::string rebuilt = u.scheme + "://" + host + ":" + u.port + u.target;
  vespid::DialUrl again;
  try {
    again = vespid::parse_dial_url(rebuilt);
  } catch (const std::invalid_argument&) {
    FUZZ_CHECK(false, "the URL rebuilt from an accepted one is refused");
  }
  FUZZ_CHECK(again.host == u.host && again.port == u.port && again.target == u.target &&
                 again.tls == u.tls,
             "the rebuilt URL reads differently");
  const std::string joined = vespid::join_url(u.scheme + "://" + host + "///", "/v1/x");
  FUZZ_CHECK(joined == u.scheme + "://" + host + "/v1/x", "join_url kept a slash");
  return 0;
}
