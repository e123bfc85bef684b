// "did you mean ...?" for names a person typed: config keys, environment variables, plugin ids,
// a plugin's config keys. One rule everywhere, so every message suggests alike.
#pragma once

#include <string>
#include <vector>

namespace vespid::config {

// The candidate nearest to `typed` by edit distance, if it is near enough to be a typo (at most
// two edits, or a fifth of the longer name for long names); "" when none is.
std::string nearest_name(const std::string& typed, const std::vector<std::string>& candidates);

// " (did you mean \"x\"?)" for the nearest candidate, or "" when none is near.
std::string did_you_mean(const std::string& typed, const std::vector<std::string>& candidates);

}  // namespace vespid::config
