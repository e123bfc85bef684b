// The unix transport's configuration, read once at create().
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vespid::unix_transport {

struct Config {
  std::string path;  // absolute path of the socket file
  std::size_t max_message_bytes = 1048576;
  std::size_t max_connections = 64;
  std::size_t send_queue_bytes = 8388608;
};

// Parses the instance's JSON config. `state_dir` supplies the default path and anchors a relative
// one. Throws vsp::Error(VSP_E_INVALID) naming the offending key and the type it expects.
Config parse_config(std::string_view json, const std::string& state_dir);

}  // namespace vespid::unix_transport
