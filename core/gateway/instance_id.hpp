// This gateway instance's name among the instances of one deployment (cluster.instance_id):
// configured, or generated once and kept in the state directory, so that it survives restarts
// (dispatch records name the instance that waits for them).
#pragma once

#include <string>

namespace vespid::core {

// Throws StartupError (exit code kConfig) for a configured id that is not one subject token, or
// kState when the state directory's file cannot be read or written.
std::string resolve_instance_id(const std::string& configured, const std::string& state_dir);

}  // namespace vespid::core
