// `vespid session send`: one turn, sent over the control-client WebSocket and streamed until
// agent_final. With several --gateway URLs a dropped stream goes on through the next one.
#pragma once

#include <string>

#include "context.hpp"
#include "remote.hpp"

namespace vespid::cli {

struct SendOptions {
  std::string session, message, idempotency_key;
  int timeout_s = 300;
};

// Returns on agent_final; throws OperatorError for the turn's error event or a refusal,
// ConnectionError when no gateway can be reached or no answer comes within the timeout.
void send_and_stream(Context& ctx, const Remote& r, const SendOptions& o);

}  // namespace vespid::cli
