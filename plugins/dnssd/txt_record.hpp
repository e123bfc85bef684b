// A TXT record built through dns_sd.h's TXTRecord* calls from the core's "key=value" strings
// (the same strings the bonjour plugin hands Avahi), so the two plugins put the same TXT on the
// wire. A bare "key" (no '=') is a key without a value, RFC 6763 6.4.
#pragma once

#include <dns_sd.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vespid::dnssd {

class TxtRecord {
 public:
  // Throws vsp::Error(VSP_E_INVALID) when a key or value does not fit (a value over 255 bytes
  // with its key, a record over 65535 bytes) or a key is empty.
  explicit TxtRecord(const std::vector<std::string>& items);
  ~TxtRecord();
  TxtRecord(const TxtRecord&) = delete;
  TxtRecord& operator=(const TxtRecord&) = delete;

  std::uint16_t size() const;
  const void* bytes() const;

 private:
  TXTRecordRef ref_;
};

}  // namespace vespid::dnssd
