// A TXT record as dns_sd.h hands it over (the raw rdata of DNSServiceResolve's reply) turned
// into the "key=value" strings ResolvedService carries, the form the avahi backend gets from
// Avahi's string list, so gateway_record.hpp reads both the same way. Pure (dns_sd's TXTRecord*
// helpers only, no daemon), so it is unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vespid::agent {

// Every item in order: "key=value", "key=" for an empty value, "key" for a key without '='.
// Items dns_sd cannot read (a malformed record) are left out.
std::vector<std::string> txt_strings(const void* txt, std::uint16_t length);

}  // namespace vespid::agent
