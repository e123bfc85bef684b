// vespid.loop.v1: an OpenAI-compatible chat-completions client with streaming.
//
// POST ${OPENAI_BASE_URL:-https://api.openai.com/v1}/chat/completions with `stream: true` and
// messages = system (instructions + toolset context) + history + the user's message; the key is
// the node host's $OPENAI_API_KEY, never anything the gateway sent. Each
// `choices[0].delta.content` of the SSE stream is one delta; `data: [DONE]` ends it.
#pragma once

#include <nlohmann/json.hpp>

#include "engine.hpp"

namespace vespid::agent {

inline constexpr const char* kLoopEngineId = "vespid.loop.v1";

EngineResult run_loop_engine(const AgentTask& task, EngineIo& io);

// The request body (exposed for tests).
nlohmann::json loop_request_body(const AgentTask& task);

}  // namespace vespid::agent
