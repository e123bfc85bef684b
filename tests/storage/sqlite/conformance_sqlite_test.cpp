// The storage-ABI conformance suite, run against vespid-sqlite in both durability modes.
#include "conformance/conformance.hpp"
#include "sqlite_backend.hpp"

using vespid::storage_test::BackendName;
using vespid::storage_test::StorageConformance;
using vespid::storage_test::sqlite::sqlite_backend;

INSTANTIATE_TEST_SUITE_P(Sqlite, StorageConformance,
                         testing::Values(sqlite_backend("full"), sqlite_backend("normal")),
                         BackendName());
