// The bus conformance suite on the in-process `local` bus (vespid-localbus.so).
#include "conformance/conformance.hpp"

using vespid::bus_test::BackendName;
using vespid::bus_test::BusBackend;
using vespid::bus_test::BusConformance;  // unqualified in INSTANTIATE_TEST_SUITE_P

namespace {

BusBackend local_backend() {
  return BusBackend{"local", "local", [] { return std::string("{}"); }, 1024 * 1024, true};
}

// A small payload limit, to see that the configured limit (not a built-in one) is enforced.
BusBackend local_small_backend() {
  return BusBackend{"local_small_payload", "local",
                    [] { return std::string(R"({"max_payload_bytes": 1000})"); }, 1000, true};
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Local, BusConformance,
                         testing::Values(local_backend(), local_small_backend()), BackendName());
