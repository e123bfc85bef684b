// A usage error found after parsing (an option that may also come from the environment, a URL
// list with an empty entry): exit 2 like every other usage error, with a message naming the
// option. Thrown before the gateway is contacted.
#pragma once

#include <stdexcept>
#include <string>

namespace vespid::cli {

struct UsageError : std::runtime_error {
  explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace vespid::cli
