// Ids the CLI makes up for what it sends (a dispatch's run and workflow ids, a send's
// idempotency key).
#pragma once

#include <string>

namespace vespid::cli {

// `prefix` followed by 16 random hex digits; never contains ':' (it separates requestId parts).
std::string random_id(const std::string& prefix);

// A random RFC 9562 version-4 uuid in lower case, the form the reference requires of a
// dispatch's runId and workflowId.
std::string random_uuid();

}  // namespace vespid::cli
