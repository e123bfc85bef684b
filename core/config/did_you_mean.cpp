#include "config/did_you_mean.hpp"

#include <algorithm>

namespace vespid::config {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string nearest_name(const std::string& typed, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 0;
  for (const auto& c : candidates) {
    if (c == typed) continue;
    // Long names (VESPID_DISPATCH_DEFAULT_TIMEOUT_MS) carry more typos than short ones, but a
    // three-letter key two edits away from another is a different word, not a typo.
    const size_t allowed = std::max<size_t>(2, std::max(typed.size(), c.size()) / 5);
    const size_t d = edit_distance(typed, c);
    if (d <= allowed && (best.empty() || d < best_distance)) best = c, best_distance = d;
  }
  return best;
}

std::string did_you_mean(const std::string& typed, const std::vector<std::string>& candidates) {
  std::string best = nearest_name(typed, candidates);
  return best.empty() ? std::string() : " (did you mean \"" + best + "\"?)";
}

}  // namespace vespid::config
