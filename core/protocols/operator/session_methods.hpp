// operator.v1 methods for sessions: sessions.create/list/get/events/send/reset, on the same
// SessionService (and the same per-call org check) as rest.v1 and vespid.client.v1.
#pragma once

#include "protocols/method_table.hpp"

namespace vespid::sessions {

class SessionService;

void register_session_methods(core::MethodTable& methods, SessionService& sessions);

}  // namespace vespid::sessions
