#include "random_id.hpp"

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

}  // namespace vespid::cli
