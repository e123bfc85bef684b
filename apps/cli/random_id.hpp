// Ids the CLI makes up for what it sends (a dispatch's run id, a send's idempotency key).
#pragma once

#include <string>

namespace vespid::cli {

// `prefix` followed by 16 random hex digits; never contains ':' (it separates requestId parts).
std::string random_id(const std::string& prefix);

}  // namespace vespid::cli
