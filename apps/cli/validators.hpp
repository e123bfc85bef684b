// Option validators shared by command groups.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace vespid::cli {

// Any JSON value. Checked while parsing, so bad JSON is a usage error (exit 2) that never
// reaches the gateway; the message is the parser's.
inline CLI::Validator json_value_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        try {
          const nlohmann::json parsed = nlohmann::json::parse(value);
          static_cast<void>(parsed);
        } catch (const nlohmann::json::parse_error& e) {
          return std::string("not valid JSON: ") + e.what();
        }
        return {};
      },
      "JSON");
}

}  // namespace vespid::cli
