// The bus conformance suite on the `nats` plugin (vespid-nats.so) against the shared
// nats-server of this test binary.
#include "conformance/conformance.hpp"
#include "nats_env.hpp"

using vespid::bus_test::BackendName;
using vespid::bus_test::BusBackend;
using vespid::bus_test::BusConformance;  // unqualified in INSTANTIATE_TEST_SUITE_P

namespace {

// `prompt_writes` on (the default: the publishing thread writes at once) and off (the plugin's
// socket thread writes everything): the same contract either way.
BusBackend nats_backend(bool prompt_writes) {
  // nats-server's default max_payload is 1 MiB.
  return BusBackend{prompt_writes ? "nats" : "nats_buffered", "nats",
                    [prompt_writes] {
                      return vespid::bus_test::nats::config_for(
                          vespid::bus_test::nats::shared_server().url(),
                          prompt_writes ? "" : R"("prompt_writes": false)");
                    },
                    1024 * 1024, false};
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Nats, BusConformance,
                         testing::Values(nats_backend(true), nats_backend(false)), BackendName());
