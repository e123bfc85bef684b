// Writing JSON text fast, byte for byte as nlohmann's dump() writes it.
//
// nlohmann's serializer writes one character at a time and checks UTF-8 with a state machine per
// byte; on a dispatch it was the largest single cost (docs/performance.md, "Where a dispatch's
// instructions go"). Here strings are checked eight bytes at a time while they are ASCII and
// copied in runs between the bytes that need escaping. The output is the same text, so a peer
// (or a test comparing texts) cannot tell which writer wrote a frame.
//
// Shared by the core and the plugins (the ws plugin writes rest.v1 envelopes with it).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace vespid::json_write {

// True when `s` is UTF-8 as RFC 3629 has it: no overlong forms, no surrogates, nothing past
// U+10FFFF. What nlohmann's dump() takes without replacing or throwing.
bool valid_utf8(std::string_view s) noexcept;

// Appends `s` as a JSON string literal, quotes included, as dump() writes it: `"` and `\`
// escaped, \b \f \n \r \t by name, other control characters as \u00xx, everything else as it
// is. `s` must be valid UTF-8 (checked by the caller, or known: text the gateway wrote itself).
void append_string(std::string& out, std::string_view s);

// Appends `j` as j.dump() writes it (no indent, no ensure_ascii) and returns true; returns
// false, with `out` as it was, when a string in `j` is not valid UTF-8 (dump() replaces or
// throws there, per its error handler: the caller decides).
bool append_value(std::string& out, const nlohmann::json& j);

// For an object written member by member into `out` (opened with '{', closed by the caller):
// appends `"name":value`, with a comma first unless it is the first member, and returns true;
// returns false, appending nothing, when a string is not valid UTF-8. Members written in name
// order give the text dump() writes for the same object.
bool append_string_member(std::string& out, std::string_view name, std::string_view value);
bool append_value_member(std::string& out, std::string_view name, const nlohmann::json& value);
// Appends `"name":` and `json_text` as it is: text the caller checked to be one JSON value in
// valid UTF-8 (a scanned member's raw text, say), passed through without a DOM. Its spacing and
// member order are the sender's, so the object is no longer byte for byte what dump() writes.
void append_raw_member(std::string& out, std::string_view name, std::string_view json_text);

// The text of `j` exactly as j.dump(-1, ' ', false, handler) writes it: fast where every string
// is valid UTF-8, and dump() itself otherwise (which throws json::type_error 316 under the
// strict handler, as before).
std::string dump(const nlohmann::json& j,
                 nlohmann::json::error_handler_t handler = nlohmann::json::error_handler_t::strict);

}  // namespace vespid::json_write
