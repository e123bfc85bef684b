// A burst of the largest payloads from one nats bus instance to another, for the tests of the
// plugin's socket loop over plain TCP and over TLS: far more than a socket takes at once, so it
// is written and read in pieces.
#pragma once

#include <string>

#include "conformance/harness.hpp"

namespace vespid::bus_test::nats {

// Subscribes `to` to `subject` and waits until the server has that subscription, then
// publishes six payloads of nearly 1 MiB (nats-server's default max_payload; about 6 MiB, under
// the plugin's default max_pending_bytes) from `from`, and checks with gtest assertions that
// they arrive whole and in order. Both instances must be started.
void expect_a_burst_arrives(BusHarness& from, BusHarness& to, const std::string& subject);

}  // namespace vespid::bus_test::nats
