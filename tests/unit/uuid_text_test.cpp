// runtime/uuid_text: exactly what the reference's zod 4.3.6 `z.string().uuid()` accepts.
#include "runtime/uuid_text.hpp"

#include <gtest/gtest.h>

#include "runtime/crypto.hpp"

namespace vespid::util {
namespace {

TEST(IsUuid, AcceptsEveryVersionFromOneToEightAndTheRfcVariant) {
  for (const char* good :
       {"9491d710-3185-1e06-bea0-6a2f275345e0", "9491d710-3185-4e06-8ea0-6a2f275345e0",
        "9491d710-3185-7e06-9ea0-6a2f275345e0", "9491d710-3185-8e06-aea0-6a2f275345e0",
        "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"}) {
    EXPECT_TRUE(is_uuid(good)) << good;
  }
}

TEST(IsUuid, UpperCaseIsAUuidToo) {
  EXPECT_TRUE(is_uuid("9491D710-3185-4E06-BEA0-6A2F275345E0"));
  EXPECT_TRUE(is_uuid("9491d710-3185-4E06-Bea0-6a2f275345e0"));
}

TEST(IsUuid, RefusesWhatTheReferenceRefuses) {
  for (const char* bad : {
           "", "u1", "cli", "run-1", "invalid uuid",
           "9491d710-3185-0e06-bea0-6a2f275345e0",    // version 0
           "9491d710-3185-9e06-bea0-6a2f275345e0",    // version 9
           "9491d710-3185-4e06-0ea0-6a2f275345e0",    // variant 0 (NCS)
           "9491d710-3185-4e06-cea0-6a2f275345e0",    // variant 110 (Microsoft)
           "9491d710-3185-4e06-bea0-6a2f275345e0X",   // one character too many
           "9491d710-3185-4e06-bea0-6a2f275345e",     // one too few
           "9491d7103185-4e06-bea0-6a2f275345e0-",    // a dash in the wrong place
           "{9491d710-3185-4e06-bea0-6a2f275345e0}",  // braces
           "9491d710-3185-4e06-bea0-6a2f275345g0",    // not hex
           "9491d71031854e06bea06a2f275345e0",        // no dashes
           "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",    // the max uuid only in zod's lower case
       }) {
    EXPECT_FALSE(is_uuid(bad)) << bad;
  }
}

TEST(IsUuid, TheGatewaysOwnIdsAreUuids) {
  for (int i = 0; i < 100; ++i) {
    std::string id = crypto::uuid_v4();
    EXPECT_TRUE(is_uuid(id)) << id;
  }
}

TEST(LowercaseUuid, IsTheFormTheGatewayCompares) {
  EXPECT_EQ(lowercase_uuid("9491D710-3185-4E06-BEA0-6A2F275345E0"),
            "9491d710-3185-4e06-bea0-6a2f275345e0");
}

}  // namespace
}  // namespace vespid::util
