// The sqlite plugin's instance configuration: the JSON object the host passes to create().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vespid::sqlite {

enum class Synchronous { kFull, kNormal };

struct Config {
  // Relative paths are resolved against the host's state directory (see resolve_path).
  std::string path = "vespid.db";
  // kFull: a commit that returned VSP_OK survives kill -9 and power loss.
  // kNormal: survives kill -9; the last commits may be lost on power loss (WAL is not synced on
  // every commit).
  Synchronous synchronous = Synchronous::kFull;
  int busy_timeout_ms = 5000;
  // 0 = unlimited. Otherwise PRAGMA max_page_count caps the main database file, and a write
  // past the cap fails with SQLITE_FULL (VSP_E_FULL).
  uint64_t max_size_mb = 0;
};

// Parses and validates the config. Throws vsp::Error(VSP_E_INVALID) with a message that names
// the offending key and the type or values it accepts.
Config parse_config(std::string_view json_text);

// `path` as given, or state_dir/path when it is relative.
std::string resolve_path(const std::string& path, const std::string& state_dir);

const char* to_string(Synchronous s);

}  // namespace vespid::sqlite
