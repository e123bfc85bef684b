#include "random_id.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <random>

namespace vespid::cli {

std::string random_id(const std::string& prefix) {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(gen()));
  return prefix + hex;
}

std::string random_uuid() {
  // Every byte straight from the system's generator: 122 random bits, no seeded PRNG between.
  std::random_device rd;
  std::array<uint8_t, 16> b{};
  for (auto& byte : b) byte = static_cast<uint8_t>(rd());
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // the RFC variant
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return text;
}

}  // namespace vespid::cli
