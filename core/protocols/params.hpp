// Reading method parameters with errors that say which parameter and what was expected.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runtime/api_error.hpp"

namespace vespid::core::params {

inline std::string required_string(const nlohmann::json& p, const char* key) {
  auto it = p.find(key);
  if (it == p.end() || !it->is_string() || it->get<std::string>().empty()) {
    throw api::invalid(std::string("params.") + key + " is required (a non-empty string)",
                       {{"param", key}});
  }
  return *it;
}

inline std::string optional_string(const nlohmann::json& p, const char* key) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return {};
  if (!it->is_string()) {
    throw api::invalid(std::string("params.") + key + " must be a string", {{"param", key}});
  }
  return *it;
}

inline int64_t optional_int(const nlohmann::json& p, const char* key, int64_t fallback) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) {
    throw api::invalid(std::string("params.") + key + " must be an integer", {{"param", key}});
  }
  return it->get<int64_t>();
}

}  // namespace vespid::core::params
