// The storage-ABI conformance suite, run against vespid-postgres on a throwaway server (one
// schema per test), with the default pool and with three connections.
#include "conformance/conformance.hpp"
#include "pg_backend.hpp"

using vespid::storage_test::BackendName;
using vespid::storage_test::StorageBackend;
using vespid::storage_test::StorageConformance;
using vespid::storage_test::postgres::postgres_backend;

namespace {

StorageBackend pooled() {
  StorageBackend b = postgres_backend("\"pool_size\": 3");
  b.name = "postgres_pool3";
  return b;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Postgres, StorageConformance,
                         testing::Values(postgres_backend(), pooled()), BackendName());
