#include "dnssd_txt.hpp"

#include <dns_sd.h>

namespace vespid::agent {

std::vector<std::string> txt_strings(const void* txt, std::uint16_t length) {
  std::vector<std::string> out;
  if (txt == nullptr || length == 0) return out;
  const std::uint16_t count = TXTRecordGetCount(length, txt);
  for (std::uint16_t i = 0; i < count; ++i) {
    char key[256] = {};  // a TXT item is at most 255 bytes, so is its key
    std::uint8_t value_length = 0;
    const void* value = nullptr;
    if (TXTRecordGetItemAtIndex(length, txt, i, sizeof key, key, &value_length, &value) !=
        kDNSServiceErr_NoError) {
      continue;
    }
    std::string item = key;
    if (value != nullptr) {
      item += '=';
      item.append(static_cast<const char*>(value), value_length);
    }
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace vespid::agent
