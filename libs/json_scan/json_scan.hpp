// Reading the hot frames without a DOM: one pass over a JSON object that checks the whole text
// and hands back its top-level members as spans of the original text.
//
// The invoke path's frames (an operator's `req` for nodes.invoke, a node's `invoke-res`) are
// small and fixed in shape; building an nlohmann DOM for them is the core's largest cost per
// invoke (docs/performance.md). A scan is conservative: it accepts only texts that
// json_input::parse accepts too (same grammar, UTF-8 rules, surrogate rules, number range and
// depth cap) and gives the same values for them. Whatever it refuses (or a caller finds
// unexpected) goes down the DOM path, which answers with the dialect's own error, so a refusal
// here never reaches a peer. fuzz/json_scan_fuzzer.cpp checks both halves of that against
// nlohmann on every input.
//
// The same scan also builds DOMs (build_dom) for json_input::parse: strings go into the DOM in
// runs, where nlohmann's lexer appends them a byte at a time (a 64 KiB dispatch payload spent
// a third of the gateway's CPU there).
//
// It depends on nothing of the core's, so the ws plugin reads the core's rest.v1 answers with it
// too (plugins/ws/rest_codec.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace vespid::json_scan {

enum class Kind { Null, False, True, Number, String, Object, Array };

struct Value {
  Kind kind = Kind::Null;
  // The value's text exactly as sent: a string with its quotes, a container with its brackets.
  std::string_view raw;
  // For a string: it holds a backslash escape, so `raw` minus the quotes is not its value.
  bool escaped = false;
  // For a number: written as an integer (no fraction, no exponent).
  bool integer = false;

  // A string without escapes, as its value (quotes removed); nullopt for anything else.
  std::optional<std::string_view> plain_string() const;
  // For a string: replaces `out` with its value, escapes decoded, and returns true; false (out
  // untouched) for anything else.
  bool string_value(std::string& out) const;
  // An integer number that fits in int64_t; nullopt for anything else.
  std::optional<int64_t> int64() const;
};

struct Member {
  std::string_view key;  // the key's text between its quotes
  bool key_escaped = false;
  Value value;
};

// The top-level members of one JSON object, in order. Frames on the hot path have a handful;
// an object with more than kMaxMembers is not scanned (the DOM path takes it).
class Object {
 public:
  static constexpr std::size_t kMaxMembers = 16;

  // User-provided, so that a value-initialised Object (`std::optional<Object>(std::in_place)`)
  // is not zeroed first: its slots are written as members are scanned.
  Object() noexcept {}

  // The member named `key`, or nullptr. Keys are compared as written: a caller that meets
  // has_escaped_key() or has_duplicate_key() should take the DOM path, where "n\u006fde" is
  // "node" and the last of two equal keys wins.
  const Value* find(std::string_view key) const;
  bool has_escaped_key() const noexcept { return escaped_key_; }
  bool has_duplicate_key() const noexcept { return duplicate_key_; }
  std::size_t size() const noexcept { return count_; }
  const Member& operator[](std::size_t i) const { return members_.at[i]; }

 private:
  friend struct ObjectScan;
  // Left unwritten until a member is scanned into it: a frame fills two to six of the sixteen,
  // and clearing the rest (768 bytes) cost more than the scan of a small frame's keys.
  union Slots {
    Slots() noexcept {}
    Member at[kMaxMembers];
  } members_;
  std::size_t count_ = 0;
  bool escaped_key_ = false;
  bool duplicate_key_ = false;
};

// `text` as one JSON object (whitespace around it allowed) no deeper than `max_depth` levels,
// with its members; nullopt when it is anything else, malformed, or has too many members.
std::optional<Object> scan_object(std::string_view text, int max_depth);

// The same, and in the same pass the members of the top-level member `inner_key` when it is an
// object (a request's params), into `inner`: a caller that reads both levels scans once. When
// that member is absent or not an object, or the scan gives nullopt, `inner` is left empty. Too
// many members in either gives nullopt.
std::optional<Object> scan_object(std::string_view text, int max_depth, std::string_view inner_key,
                                  Object& inner);

// True when `text` is exactly one JSON value (whitespace around it allowed) no deeper than
// `max_depth` levels. Builds nothing.
bool is_value(std::string_view text, int max_depth);

// Builds `text`'s DOM in the same pass that checks it, as json_input::parse would build it
// (the same grammar, depth cap and number types) but without nlohmann's lexer, which copies a
// string a byte at a time. False, `out` untouched, when the scan refuses the text; json_input
// then gives nlohmann's own answer, error message included.
bool build_dom(std::string_view text, int max_depth, nlohmann::json& out);

// Appends the value of a string's text between its quotes (`inner`, as scanned: valid, with
// escapes) to `out`, escapes decoded to UTF-8.
void append_unescaped(std::string& out, std::string_view inner);

}  // namespace vespid::json_scan
