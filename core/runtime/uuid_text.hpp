// UUIDs as text: the check the reference applies to every id it takes from a caller.
#pragma once

#include <string>
#include <string_view>

namespace vespid::util {

// True for what the reference's `z.string().uuid()` (zod 4.3.6) accepts, and nothing more:
// 8-4-4-4-12 hex digits in either case, the version digit 1 to 8 and the variant digit one of
// 8, 9, a, b; or the nil uuid, or the max uuid in lower case. Ids this gateway accepts travel to
// reference node agents, which run the same check and silently drop an `execute` that fails it,
// so a looser check here would turn a 400 now into a NODE_EXECUTION_TIMEOUT later.
bool is_uuid(std::string_view text) noexcept;

// The form this gateway makes and compares uuids in: lower case (RFC 9562 reads them in either).
std::string lowercase_uuid(std::string_view text);

}  // namespace vespid::util
