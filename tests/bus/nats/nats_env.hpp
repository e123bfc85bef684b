// What the nats bus tests share: one nats-server for the whole binary (started before the first
// test; every test skips, or fails in CI, when there is no nats-server), and config helpers.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "nats_server.hpp"
#include "skip_or_fail.hpp"

namespace vespid::bus_test::nats {

// The shared server. Tests that stop or kill a server start one of their own instead.
vespid::test::NatsServer& shared_server();

// The text as a JSON string literal.
std::string json_string(const std::string& s);

// {"servers": [<url>], <extra_members>}
std::string config_for(const std::string& url, const std::string& extra_members = {});

// Fails the current test (skips it outside CI) when no nats-server can run here: for tests that
// start their own.
#define VESPID_REQUIRE_NATS_SERVER()                          \
  do {                                                        \
    if (auto why = vespid::test::NatsServer::unavailable()) { \
      VESPID_SKIP_UNLESS_CI(*why);                            \
    }                                                         \
  } while (0)

}  // namespace vespid::bus_test::nats
