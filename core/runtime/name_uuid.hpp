// A uuid that stands for a name (RFC 9562 version 8, from SHA-256 of the name): the same name
// gives the same uuid everywhere. For ids the reference agents require as uuids but that this
// gateway has in another form: a paired node acting as a session's user is "node:<id>".
#pragma once

#include <string>
#include <string_view>

namespace vespid::crypto {

std::string name_uuid(std::string_view name);

}  // namespace vespid::crypto
