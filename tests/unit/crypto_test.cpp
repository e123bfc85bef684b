#include "runtime/crypto.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>

namespace vespid::crypto {
namespace {

TEST(Crypto, Sha256MatchesTheStandardVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Each thread reuses one digest context: a digest must not carry anything into the next, on
// this thread or another.
TEST(Crypto, Sha256ReusesItsContextWithoutCarryingState) {
  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  const std::string million_a(1000000, 'a');
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sha256_hex(million_a),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    EXPECT_EQ(sha256_hex("abc"), abc);
  }
  std::string on_other;
  std::thread([&] { on_other = sha256_hex("abc"); }).join();
  EXPECT_EQ(on_other, abc);
}

TEST(Crypto, Base64UrlHasNoPaddingAndTheUrlAlphabet) {
  EXPECT_EQ(base64url(""), "");
  EXPECT_EQ(base64url("f"), "Zg");
  EXPECT_EQ(base64url("fo"), "Zm8");
  EXPECT_EQ(base64url("foo"), "Zm9v");
  EXPECT_EQ(base64url(std::string("\xfb\xff\xfe", 3)), "-__-");
  EXPECT_EQ(base64url(random_bytes(32)).size(), 43u);
}

TEST(Crypto, ConstantTimeEqualityIsStillEquality) {
  EXPECT_TRUE(equal_ct("abc", "abc"));
  EXPECT_FALSE(equal_ct("abc", "abd"));
  EXPECT_FALSE(equal_ct("abc", "abcd"));
  EXPECT_TRUE(equal_ct("", ""));
}

TEST(Crypto, RandomValuesDoNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(random_bytes(16)).second);
  const std::regex v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(std::regex_match(uuid_v4(), v4));
}

}  // namespace
}  // namespace vespid::crypto
