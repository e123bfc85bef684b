// The typed reading of a node host's `execute_result` frame, the one frame of vespid.node.v1 on
// every dispatch's way back. One scan of the frame (libs/json_scan) gives the request id, the
// status and the output's text, which goes into the stored result as the host wrote it.
//
// It vouches only for a frame it takes whole: a frame that is malformed, is of another type, has
// a key written with escapes or repeated, a status other than "succeeded" or "failed", an
// unusable requestId, or an error that is not a string is left to the DOM reading
// (NodeHostDialect), which owns every error answer and the conversions, so a host sees no
// difference between the two.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "services/dispatch/host_result.hpp"

namespace vespid::node_hosts {

// The longest requestId a host's frame may name (runId and nodeId may be 256 each).
constexpr std::size_t kMaxRequestIdBytes = 1024;

// A frame's "requestId" (of execute_result, execute_received, execute_event) when it is a
// string of 1 to kMaxRequestIdBytes bytes; empty otherwise.
std::string request_id_of(const nlohmann::json& frame);

// The typed reading; nullopt where it does not vouch for the frame.
std::optional<dispatch::HostResult> read_execute_result(std::string_view message);

// The DOM reading, for any execute_result frame. nullopt when the frame names no usable
// requestId. A status other than "succeeded" or "failed" gives a failure the gateway wrote in
// the host's stead, with `bad_status` set (the host is told, and the result acknowledged so that
// it stops resending it).
std::optional<dispatch::HostResult> read_execute_result(const nlohmann::json& frame,
                                                        bool& bad_status);

}  // namespace vespid::node_hosts
