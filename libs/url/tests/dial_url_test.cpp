// parse_dial_url: the forms vespid-agent and the CLI dial, the defaults they rely on, and the
// errors users see.
#include "dial_url.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace vespid {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_dial_url(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(parsed)";
}

TEST(DialUrl, DefaultsPortAndTargetPerScheme) {
  const DialUrl ws = parse_dial_url("ws://gw.example");
  EXPECT_EQ(ws.scheme, "ws");
  EXPECT_FALSE(ws.tls);
  EXPECT_EQ(ws.host, "gw.example");
  EXPECT_EQ(ws.port, "80");
  EXPECT_EQ(ws.path, "");
  EXPECT_EQ(ws.target, "/");
  EXPECT_EQ(ws.host_header(), "gw.example");

  const DialUrl wss = parse_dial_url("WSS://gw.example/ws");
  EXPECT_EQ(wss.scheme, "wss");
  EXPECT_TRUE(wss.tls);
  EXPECT_EQ(wss.port, "443");
  EXPECT_EQ(wss.target, "/ws");

  EXPECT_EQ(parse_dial_url("http://h").port, "80");
  EXPECT_EQ(parse_dial_url("https://h").port, "443");
}

TEST(DialUrl, ExplicitPortPathAndQuery) {
  const DialUrl u = parse_dial_url("https://api.example:8443/v1/base/?a=b%20c");
  EXPECT_EQ(u.host, "api.example");
  EXPECT_EQ(u.port, "8443");
  EXPECT_EQ(u.path, "/v1/base/");
  EXPECT_EQ(u.target, "/v1/base/?a=b%20c");
  EXPECT_EQ(u.host_header(), "api.example:8443");
  EXPECT_EQ(parse_dial_url("http://h?x=1").target, "/?x=1");
  EXPECT_EQ(parse_dial_url("http://h:/").port, "80");  // an empty port is the default one
}

TEST(DialUrl, Ipv6LiteralsLoseTheirBracketsAndKeepTheirZone) {
  const DialUrl u = parse_dial_url("ws://[::1]:3002/ws");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, "3002");
  EXPECT_EQ(u.host_header(), "[::1]:3002");

  // What the node host dials for a discovered link-local address (gateway_record.cpp).
  const DialUrl zoned = parse_dial_url("wss://[fe80::1%eth0]:3002/ws");
  EXPECT_EQ(zoned.host, "fe80::1%eth0");
  EXPECT_EQ(zoned.port, "3002");
  EXPECT_EQ(zoned.target, "/ws");
}

TEST(DialUrl, RefusesWhatCannotBeDialled) {
  EXPECT_EQ(error_of("gw.example:3002"),
            "\"gw.example:3002\" is not a URL (expected scheme://host[:port]/...)");
  EXPECT_EQ(error_of("gw.example"),
            "\"gw.example\" is not a URL (expected scheme://host[:port]/...)");
  EXPECT_EQ(error_of("ftp://h/"), "unsupported URL scheme \"ftp\" in ftp://h/");
  EXPECT_EQ(error_of("https://user:pw@h/"),
            "credentials in URLs are not supported: https://user:pw@h/");
  EXPECT_EQ(error_of("http:///path"), "no host in URL http:///path");
  EXPECT_EQ(error_of("http://h:0/"), "bad port in URL http://h:0/");
  EXPECT_EQ(error_of("http://h:65536/"), "bad port in URL http://h:65536/");
  EXPECT_EQ(error_of("http://h:99999/"), "bad port in URL http://h:99999/");
  EXPECT_EQ(error_of("http://h:80x/"),
            "\"http://h:80x/\" is not a URL (expected scheme://host[:port]/...)");
  EXPECT_EQ(error_of("ws://[::1/ws"),
            "\"ws://[::1/ws\" is not a URL (expected scheme://host[:port]/...)");
  // Found by fuzzing: the zone went back into the host unchecked, CR LF and all.
  EXPECT_EQ(
      error_of("wss://[fe80::1%eth0\r\nX-Evil: 1]/ws"),
      "\"wss://[fe80::1%eth0\r\nX-Evil: 1]/ws\" has an IPv6 zone that is not an interface name");
}

TEST(DialUrl, JoinUrlDropsTrailingSlashes) {
  EXPECT_EQ(join_url("https://api.example/v1//", "/chat/completions"),
            "https://api.example/v1/chat/completions");
  EXPECT_EQ(join_url("http://h:3001", "/v1/agents/pair"), "http://h:3001/v1/agents/pair");
}

}  // namespace
}  // namespace vespid
