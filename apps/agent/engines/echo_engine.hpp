// vespid.echo.v1: an offline engine for demos and tests. Streams the user's message back word by
// word (each delta is a word with the whitespace before it, so the deltas concatenate to the
// message exactly), pausing `delay` between words.
#pragma once

#include <chrono>

#include "engine.hpp"

namespace vespid::agent {

inline constexpr const char* kEchoEngineId = "vespid.echo.v1";

EngineResult run_echo_engine(const AgentTask& task, EngineIo& io, std::chrono::milliseconds delay);

}  // namespace vespid::agent
