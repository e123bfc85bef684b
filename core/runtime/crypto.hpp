// Secrets: random generation, hashing for storage at rest, constant-time comparison.
// Secrets are stored only as SHA-256 hashes and compared with CRYPTO_memcmp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vespid::crypto {

// `n` bytes from OpenSSL's CSPRNG. Throws if the generator fails (never falls back).
std::string random_bytes(std::size_t n);

// Lowercase hex / unpadded base64url encodings.
std::string hex(std::string_view bytes);
std::string base64url(std::string_view bytes);

// SHA-256 of `data`, raw 32 bytes, and as lowercase hex.
std::string sha256(std::string_view data);
std::string sha256_hex(std::string_view data);

// Constant-time equality for equal-length inputs; unequal lengths are unequal (length is public).
bool equal_ct(std::string_view a, std::string_view b) noexcept;

// A random RFC 4122 version-4 UUID, lowercase.
std::string uuid_v4();

}  // namespace vespid::crypto
