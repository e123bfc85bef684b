// The storage-ABI conformance suite (tests/storage/conformance) run against the 1.3 storage
// fixture (fixtures/old_abi_storage_fixture.c), so that old_abi_plugins_test's gateway runs on a
// store known to behave as storage.h says. The fixture keeps its data in memory, so the two
// cases that reopen the store are left out by the ctest entry (see CMakeLists.txt).
#include "conformance/conformance.hpp"

using vespid::storage_test::BackendName;
using vespid::storage_test::StorageBackend;
using vespid::storage_test::StorageConformance;

namespace {

StorageBackend abi13_storage_fixture() {
  return StorageBackend{"abi13_storage_fixture", VESPID_ABI13_STORAGE_FIXTURE, "abi13-storage",
                        [](const std::filesystem::path&) { return std::string("{}"); }, nullptr};
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(OldAbi, StorageConformance, testing::Values(abi13_storage_fixture()),
                         BackendName());
