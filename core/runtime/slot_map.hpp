// Values kept in reused slots and named by a key that says which slot and which use of it.
//
// For state that is added and taken out at a high rate and looked up by a key handed to
// someone else (an invoke's id sent to a node): no allocation once the table has grown to the
// most entries held at once, no hashing, and a key that outlived its entry finds nothing, even
// when its slot holds a newer one. Not thread-safe; its owner's thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace vespid::core {

template <class T>
class SlotMap {
 public:
  // Never 0: a key read from outside that does not parse can be 0 and find nothing.
  using Key = uint64_t;

  Key insert(T value) {
    uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      index = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    Slot& s = slots_[index];
    s.value.emplace(std::move(value));
    ++size_;
    return key_of(index, s.generation);
  }

  // The entry `key` names, or nullptr when it was erased (or never made here).
  T* find(Key key) noexcept {
    const uint64_t index = key & 0xffffffffu;
    if (index >= slots_.size()) return nullptr;
    Slot& s = slots_[index];
    if (!s.value || s.generation != static_cast<uint32_t>(key >> 32)) return nullptr;
    return &*s.value;
  }

  // Moves the entry out and frees its slot; nullopt when `key` names none.
  std::optional<T> take(Key key) {
    T* found = find(key);
    if (found == nullptr) return std::nullopt;
    const auto index = static_cast<uint32_t>(key & 0xffffffffu);
    Slot& s = slots_[index];
    std::optional<T> out(std::move(*found));
    s.value.reset();
    // The next use of the slot gets another generation, so this key stays dead. Generation 0 is
    // skipped: keys are never 0.
    if (++s.generation == 0) s.generation = 1;
    free_.push_back(index);
    --size_;
    return out;
  }

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // Every key held now; `fn` may not insert or take.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      const Slot& s = slots_[i];
      if (s.value) fn(key_of(i, s.generation), *s.value);
    }
  }

 private:
  struct Slot {
    uint32_t generation = 1;
    std::optional<T> value;
  };
  static Key key_of(uint32_t index, uint32_t generation) noexcept {
    return (static_cast<uint64_t>(generation) << 32) | index;
  }

  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;  // slots to reuse, the last freed first (warm in the cache)
  size_t size_ = 0;
};

}  // namespace vespid::core
