// Reading one field of a peer's JSON object with the type the protocol says it has.
//
// nlohmann's `value(key, fallback)` throws a bare type_error when the field is present with
// another type, which names neither the field nor the frame and escapes the dialect's error
// handling. These readers keep the same "absent or null means the fallback" rule, and answer
// a present field of the wrong type with api::invalid naming the field (`where` is its path as
// the peer would write it, "hello.token"), which every dialect turns into its own error form.
//
// The `*_if` forms are for values the gateway only passes along or shows (stored events, echoed
// ids): a wrong type there is not the current peer's mistake, so it reads as the fallback.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "runtime/api_error.hpp"

namespace vespid::core::fields {

using nlohmann::json;

namespace detail {
inline const json* find(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}
[[noreturn]] inline void wrong_type(std::string_view where, const char* expected) {
  throw api::invalid(std::string(where) + " must be " + expected, {{"field", std::string(where)}});
}
}  // namespace detail

inline std::string string_or(const json& obj, std::string_view key, std::string fallback,
                             std::string_view where) {
  const json* v = detail::find(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_string()) detail::wrong_type(where, "a string");
  return v->get<std::string>();
}

inline bool bool_or(const json& obj, std::string_view key, bool fallback, std::string_view where) {
  const json* v = detail::find(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) detail::wrong_type(where, "true or false");
  return v->get<bool>();
}

// An integer within [min, max]; a float, a string or a value out of range is refused.
inline int64_t int_or(const json& obj, std::string_view key, int64_t fallback, int64_t min,
                      int64_t max, std::string_view where) {
  const json* v = detail::find(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_number_integer()) detail::wrong_type(where, "an integer");
  // An unsigned value above INT64_MAX reads as negative through get<int64_t>: compare unsigned.
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max))
    detail::wrong_type(
        where, ("an integer from " + std::to_string(min) + " to " + std::to_string(max)).c_str());
  const int64_t n = v->get<int64_t>();
  if (n < min || n > max)
    detail::wrong_type(
        where, ("an integer from " + std::to_string(min) + " to " + std::to_string(max)).c_str());
  return n;
}

// An object (or the fallback when absent or null); any other type is refused.
inline json object_or(const json& obj, std::string_view key, json fallback,
                      std::string_view where) {
  const json* v = detail::find(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_object()) detail::wrong_type(where, "an object");
  return *v;
}

inline std::string string_if(const json& obj, std::string_view key, std::string fallback = {}) {
  const json* v = detail::find(obj, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : fallback;
}

inline uint64_t uint_if(const json& obj, std::string_view key, uint64_t fallback = 0) {
  const json* v = detail::find(obj, key);
  return v != nullptr && v->is_number_unsigned() ? v->get<uint64_t>() : fallback;
}

inline int64_t int_if(const json& obj, std::string_view key, int64_t fallback = 0) {
  const json* v = detail::find(obj, key);
  return v != nullptr && v->is_number_integer() ? v->get<int64_t>() : fallback;
}

inline bool bool_if(const json& obj, std::string_view key, bool fallback = false) {
  const json* v = detail::find(obj, key);
  return v != nullptr && v->is_boolean() ? v->get<bool>() : fallback;
}

// A member when it is present (of any type), else null: for ids and payloads passed along.
inline json any_if(const json& obj, std::string_view key) {
  const json* v = detail::find(obj, key);
  return v != nullptr ? *v : json();
}

// A peer's correlation id as it may be echoed back: a string or an integer, else null. A
// structure is never copied back to the peer that sent it.
inline json echoable_id(const json& obj, std::string_view key = "id") {
  const json* v = detail::find(obj, key);
  return v != nullptr && (v->is_string() || v->is_number_integer()) ? *v : json();
}

}  // namespace vespid::core::fields
