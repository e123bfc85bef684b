// Where the gateway keeps its state, found the same way by the gateway, the CLI and the agent:
// an explicit --state-dir, else $XDG_STATE_HOME/vespid, else ~/.local/state/vespid.
#pragma once

#include <string>

namespace vespid::paths {

// Returns the state directory to use. `explicit_dir` wins when non-empty. Never creates anything.
std::string resolve_state_dir(const std::string& explicit_dir);

// The local admin socket inside a state directory.
inline std::string admin_socket_path(const std::string& state_dir) {
  return state_dir + "/gateway.sock";
}

}  // namespace vespid::paths
