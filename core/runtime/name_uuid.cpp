#include "runtime/name_uuid.hpp"

#include "runtime/crypto.hpp"

namespace vespid::crypto {

std::string name_uuid(std::string_view name) {
  std::string b = sha256(std::string("vespid-name-uuid:").append(name)).substr(0, 16);
  b[6] = static_cast<char>((static_cast<unsigned char>(b[6]) & 0x0f) | 0x80);  // version 8
  b[8] = static_cast<char>((static_cast<unsigned char>(b[8]) & 0x3f) | 0x80);  // variant 10
  const std::string h = hex(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

}  // namespace vespid::crypto
