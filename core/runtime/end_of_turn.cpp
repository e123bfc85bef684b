#include "runtime/end_of_turn.hpp"

#include <vector>

namespace vespid::core::end_of_turn {

namespace {
struct Turn {
  int depth = 0;
  std::vector<std::shared_ptr<HeldOutput>> held;
};
thread_local Turn t_turn;
}  // namespace

bool active() noexcept {
  return t_turn.depth > 0;
}

void hold(std::shared_ptr<HeldOutput> out) {
  t_turn.held.push_back(std::move(out));
}

void begin() noexcept {
  ++t_turn.depth;
}

void end() noexcept {
  if (t_turn.depth == 0) return;  // an unmatched end from a plugin: nothing to close
  if (t_turn.depth > 1) {
    --t_turn.depth;
    return;
  }
  // Still "inside" while releasing: a release that leads to more output (it should not) is
  // held into this same loop rather than recursing.
  for (std::size_t i = 0; i < t_turn.held.size(); ++i) {
    std::shared_ptr<HeldOutput> out = std::move(t_turn.held[i]);
    out->release_held();
  }
  t_turn.held.clear();
  t_turn.depth = 0;
}

}  // namespace vespid::core::end_of_turn
