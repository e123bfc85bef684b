// Where the binaries under test live, fixed at configure time by tests/support/CMakeLists.txt.
#pragma once

#include <string>

namespace vespid::test {

inline std::string gateway_bin() {
  return VESPID_GATEWAY_BIN;
}
inline std::string cli_bin() {
  return VESPID_CLI_BIN;
}
inline std::string plugin_dir() {
  return VESPID_PLUGIN_DIR;
}
inline std::string source_dir() {
  return VESPID_SOURCE_DIR;
}

}  // namespace vespid::test
