#include "runtime/end_of_turn.hpp"

#include <vector>

namespace vespid::core::end_of_turn {

namespace {
struct Turn {
  int depth = 0;
  std::vector<std::shared_ptr<HeldOutput>> held;
  std::vector<std::shared_ptr<HeldOutput>> held_for_item;
};

void release(std::vector<std::shared_ptr<HeldOutput>>& list) noexcept {
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::shared_ptr<HeldOutput> out = std::move(list[i]);
    out->release_held();
  }
  list.clear();
}
thread_local Turn t_turn;
}  // namespace

bool active() noexcept {
  return t_turn.depth > 0;
}

void hold(std::shared_ptr<HeldOutput> out) {
  t_turn.held.push_back(std::move(out));
}

void hold_for_item(std::shared_ptr<HeldOutput> out) {
  t_turn.held_for_item.push_back(std::move(out));
}

void item_end() noexcept {
  release(t_turn.held_for_item);
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
  release(t_turn.held_for_item);
  release(t_turn.held);
  t_turn.depth = 0;
}

}  // namespace vespid::core::end_of_turn
