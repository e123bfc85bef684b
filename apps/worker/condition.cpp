#include "condition.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

namespace vespid::worker {

using nlohmann::json;

namespace {

constexpr std::string_view kNodesPrefix = "$nodes.";

std::vector<std::string> segments(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t dot = path.find('.', start);
    const std::size_t end = dot == std::string_view::npos ? path.size() : dot;
    if (end > start) out.emplace_back(path.substr(start, end - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

bool is_index(const std::string& s) {
  if (s.empty() || s.size() > 9) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

const json* walk(const json* at, std::string_view rest) {
  for (const std::string& part : segments(rest)) {
    if (at->is_object()) {
      auto it = at->find(part);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array() && is_index(part)) {
      const std::size_t i = std::stoul(part);
      if (i >= at->size()) return nullptr;
      at = &(*at)[i];
    } else {
      return nullptr;
    }
  }
  return at;
}

// A number, or a string that is wholly one (surrounding blanks allowed).
std::optional<double> as_number(const json* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_number()) return v->get<double>();
  if (!v->is_string()) return std::nullopt;
  const std::string& s = v->get_ref<const std::string&>();
  const std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return std::nullopt;
  const std::size_t e = s.find_last_not_of(" \t\r\n");
  const std::string t = s.substr(b, e - b + 1);
  errno = 0;
  char* end = nullptr;
  const double d = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || errno == ERANGE || !std::isfinite(d)) return std::nullopt;
  return d;
}

// JavaScript's === on JSON values: only primitives can be equal (objects and arrays are compared
// by identity there, and a config value is never one).
bool strictly_equal(const json* a, const json* b) {
  if (a == nullptr || b == nullptr) return a == b;  // undefined === undefined
  if (a->is_structured() || b->is_structured()) return false;
  if (a->is_number() && b->is_number()) return a->get<double>() == b->get<double>();
  return *a == *b;
}

const char* type_name(const json* v) {
  if (v == nullptr) return "undefined";
  switch (v->type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return v->is_number() ? "number" : "unknown";
  }
}

ConditionResult invalid(const std::string& why) {
  ConditionResult r;
  r.error = "INVALID_NODE_CONFIG: " + why;
  return r;
}

}  // namespace

const json* resolve_path(const std::string& path, const json& run_input, const json& outputs) {
  const std::string_view p(path);
  if (p.substr(0, kNodesPrefix.size()) == kNodesPrefix) {
    const std::string_view rest = p.substr(kNodesPrefix.size());
    // Node ids may contain dots: the longest id that the rest starts with (followed by a dot or
    // nothing) is the node.
    const json* best = nullptr;
    std::size_t best_len = 0;
    if (outputs.is_object()) {
      for (auto it = outputs.begin(); it != outputs.end(); ++it) {
        const std::string& id = it.key();
        if (id.size() <= best_len || rest.substr(0, id.size()) != id) continue;
        if (rest.size() != id.size() && rest[id.size()] != '.') continue;
        best = &it.value();
        best_len = id.size();
      }
    }
    if (best == nullptr) return nullptr;
    return walk(best, rest.substr(best_len));
  }
  std::string_view input_path = p;
  if (input_path.substr(0, 2) == "$.") input_path.remove_prefix(2);
  return walk(&run_input, input_path);
}

ConditionResult evaluate_condition(const json& config, const json& run_input, const json& outputs) {
  if (!config.is_object()) return invalid("a condition needs config {path, op, value?}");
  auto path_it = config.find("path");
  auto op_it = config.find("op");
  if (path_it == config.end() || !path_it->is_string() || path_it->get<std::string>().empty())
    return invalid("config.path must be a non-empty string");
  if (op_it == config.end() || !op_it->is_string())
    return invalid("config.op must be one of eq, neq, contains, exists, gt, gte, lt, lte");
  const std::string path = *path_it;
  const std::string op = *op_it;
  auto value_it = config.find("value");
  const json* expected = value_it == config.end() ? nullptr : &*value_it;
  const json* actual = resolve_path(path, run_input, outputs);

  ConditionResult r;
  r.ok = true;
  if (op == "exists") {
    r.result = actual != nullptr && !actual->is_null();
  } else if (op == "eq") {
    r.result = strictly_equal(actual, expected);
  } else if (op == "neq") {
    r.result = !strictly_equal(actual, expected);
  } else if (op == "contains") {
    if (actual != nullptr && actual->is_string() && expected != nullptr && expected->is_string()) {
      r.result = actual->get_ref<const std::string&>().find(
                     expected->get_ref<const std::string&>()) != std::string::npos;
    } else if (actual != nullptr && actual->is_array()) {
      for (const json& element : *actual) {
        if (strictly_equal(&element, expected)) {
          r.result = true;
          break;
        }
      }
    }
  } else if (op == "gt" || op == "gte" || op == "lt" || op == "lte") {
    const auto a = as_number(actual);
    const auto b = as_number(expected);
    if (a && b) {
      if (op == "gt") r.result = *a > *b;
      if (op == "gte") r.result = *a >= *b;
      if (op == "lt") r.result = *a < *b;
      if (op == "lte") r.result = *a <= *b;
    }
  } else {
    return invalid("config.op \"" + op +
                   "\" is not one of eq, neq, contains, exists, gt, gte, lt, lte");
  }
  r.explain = {{"path", path},
               {"op", op},
               {"expected", expected != nullptr ? *expected : json()},
               {"actualPresent", actual != nullptr},
               {"actualType", type_name(actual)}};
  return r;
}

}  // namespace vespid::worker
