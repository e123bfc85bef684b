// The bus conformance suite on the `nats` plugin (vespid-nats.so) against the shared
// nats-server of this test binary.
#include "conformance/conformance.hpp"
#include "nats_env.hpp"

using vespid::bus_test::BackendName;
using vespid::bus_test::BusBackend;
using vespid::bus_test::BusConformance;  // unqualified in INSTANTIATE_TEST_SUITE_P

namespace {

BusBackend nats_backend() {
  // nats-server's default max_payload is 1 MiB.
  return BusBackend{
      "nats", "nats",
      [] {
        return vespid::bus_test::nats::config_for(vespid::bus_test::nats::shared_server().url());
      },
      1024 * 1024, false};
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Nats, BusConformance, testing::Values(nats_backend()), BackendName());
