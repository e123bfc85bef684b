// Work held until the end of what this thread is doing now: a turn.
//
// A turn lasts while the thread holds the core (the Sequencer) or is inside a transport's batch
// of deliveries (host->batch_begin/batch_end), whichever ends last. Replies the core produces
// during a turn are held per connection and written when it ends, so the answers to the lines of
// one read, or to the frames drained in one go, leave in one gathered write per connection.
// Nothing blocks inside a turn, so nothing is held for long.
#pragma once

#include <memory>

namespace vespid::core {

// Something with output held for the end of the turn.
class HeldOutput {
 public:
  virtual ~HeldOutput() = default;
  // Writes what is held. Called once per turn in which hold() was asked; must not throw.
  virtual void release_held() noexcept = 0;
};

namespace end_of_turn {

// True inside a turn on this thread: output may be held.
bool active() noexcept;
// Registers `out` to be released when this thread's turn ends. Only inside a turn.
void hold(std::shared_ptr<HeldOutput> out);
// Registers `out` to be released when the piece of core work running now ends (one item of the
// Sequencer's queue), or the turn, whichever comes first. For what must not wait for a long turn
// to end (storage ops: the storage thread would sit idle while the core stays busy).
void hold_for_item(std::shared_ptr<HeldOutput> out);
// The Sequencer's call after each item it ran: releases what hold_for_item registered.
void item_end() noexcept;

// Opens (or nests into) this thread's turn; the outermost end releases everything held.
void begin() noexcept;
void end() noexcept;

class Scope {
 public:
  Scope() noexcept { begin(); }
  ~Scope() { end(); }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
};

}  // namespace end_of_turn
}  // namespace vespid::core
