// A WebSocket connection: the upgrade held until the host admits it, then each whole text
// message to the host and each host `send` out as one text message, with bounded queues,
// keep-alive pings and the closing handshake.
#pragma once

#include <memory>

#include "http_io.hpp"
#include "routes.hpp"
#include "session.hpp"
#include "shared.hpp"
#include "stream.hpp"

namespace vespid::ws {

// I/O thread of `replaces` (the HTTP session that read the upgrade request, whose place in the
// registry this session takes). Opens the host connection and waits for its admit().
void start_ws_session(const std::shared_ptr<Shared>& shared, Stream stream, Request req,
                      const Route& route, Executor ex, Session* replaces);

// Close codes for a host close() status: 1000 for VSP_OK, 1009 for VSP_E_OVERFLOW, else 1008.
uint16_t close_code_for(int status) noexcept;

// At most 123 bytes (a close frame's room for a reason), cut at a UTF-8 character boundary.
std::string close_reason_text(std::string_view reason);

// False when the text ends inside a UTF-8 character (or in stray continuation bytes). Beast
// checks UTF-8 frame by frame, but Boost 1.81 skips its end-of-message check when the final
// frame is an empty continuation, so a message can arrive "done" with its last character cut
// (found by fuzz_ws_frames). The bytes before the tail were checked as they arrived; the tail is
// all that is left to check, so this looks at the last four bytes only.
bool ends_on_character_boundary(std::string_view text) noexcept;

}  // namespace vespid::ws
