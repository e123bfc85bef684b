#include "txt_record.hpp"

#include <vespid/plugin.hpp>

namespace vespid::dnssd {

TxtRecord::TxtRecord(const std::vector<std::string>& items) {
  TXTRecordCreate(&ref_, 0, nullptr);  // no buffer of ours: the library grows its own
  for (const std::string& item : items) {
    const std::size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    DNSServiceErrorType err = kDNSServiceErr_BadParam;
    if (!key.empty()) {
      if (eq == std::string::npos) {
        err = TXTRecordSetValue(&ref_, key.c_str(), 0, nullptr);
      } else if (item.size() <= 255) {  // one TXT string: key, '=', value
        const std::string value = item.substr(eq + 1);
        err =
            TXTRecordSetValue(&ref_, key.c_str(), static_cast<uint8_t>(value.size()), value.data());
      }
    }
    if (err != kDNSServiceErr_NoError) {
      TXTRecordDeallocate(&ref_);
      throw vsp::Error(VSP_E_INVALID, "dnssd: TXT entry \"" + item.substr(0, 40) +
                                          "\" cannot be encoded (dns_sd error " +
                                          std::to_string(err) + ")");
    }
  }
}

TxtRecord::~TxtRecord() {
  TXTRecordDeallocate(&ref_);
}

std::uint16_t TxtRecord::size() const {
  return TXTRecordGetLength(&ref_);
}

const void* TxtRecord::bytes() const {
  return TXTRecordGetBytesPtr(&ref_);
}

}  // namespace vespid::dnssd
