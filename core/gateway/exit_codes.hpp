// Exit codes of vespid-gateway, so scripts and service managers can tell failures apart.
#pragma once

namespace vespid::exit_code {
inline constexpr int kOk = 0;        // clean shutdown (SIGTERM/SIGINT), or a command succeeded
inline constexpr int kFailure = 1;   // a required plugin failed while running, or another error
inline constexpr int kConfig = 2;    // invalid configuration or command line
inline constexpr int kStateDir = 3;  // the state directory cannot be created or written
inline constexpr int kLocked = 4;    // another gateway is using the state directory
inline constexpr int kListen = 5;    // a listener could not bind (address in use, permission)
inline constexpr int kPlugin = 6;    // a required plugin could not be loaded or started
inline constexpr int kStorage = 7;   // the database cannot be opened or migrated
}  // namespace vespid::exit_code
