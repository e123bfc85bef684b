#include "config.hpp"

#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <vespid/plugin.hpp>

namespace vespid::sqlite {
namespace {

// With 4 KiB pages this keeps max_page_count within SQLite's 32-bit page numbers.
constexpr uint64_t kMaxSizeMb = 16u * 1024u * 1024u - 1u;

[[noreturn]] void invalid(const std::string& message) {
  throw vsp::Error(VSP_E_INVALID, "sqlite: " + message);
}

std::string parse_path(const nlohmann::json& v) {
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
    invalid("\"path\" must be a non-empty string");
  }
  const auto& s = v.get_ref<const std::string&>();
  // SQLite would treat these as special (an in-memory or URI database), which is never what a
  // storage path for durable data means.
  if (s == ":memory:" || s.rfind("file:", 0) == 0) {
    invalid("\"path\" must be a file path, not \"" + s + "\"");
  }
  if (s.find('\0') != std::string::npos) invalid("\"path\" must not contain a NUL byte");
  return s;
}

Synchronous parse_synchronous(const nlohmann::json& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "full") return Synchronous::kFull;
    if (s == "normal") return Synchronous::kNormal;
  }
  invalid("\"synchronous\" must be one of \"full\", \"normal\"");
}

// nlohmann/json stores every non-negative integer literal as number_unsigned and negative ones as
// number_integer, so is_number_unsigned() is exactly "a non-negative integer" (not 1.0, not -1).
int parse_busy_timeout(const nlohmann::json& v) {
  if (v.is_number_unsigned() &&
      v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int>::max())) {
    return static_cast<int>(v.get<uint64_t>());
  }
  invalid("\"busy_timeout_ms\" must be an integer from 0 to " +
          std::to_string(std::numeric_limits<int>::max()));
}

uint64_t parse_max_size(const nlohmann::json& v) {
  if (v.is_number_unsigned() && v.get<uint64_t>() <= kMaxSizeMb) return v.get<uint64_t>();
  invalid("\"max_size_mb\" must be an integer from 0 (unlimited) to " + std::to_string(kMaxSizeMb));
}

}  // namespace

Config parse_config(std::string_view json_text) {
  nlohmann::json doc;
  try {
    // The gateway's own config file allows comments; accept them here too.
    doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/true,
                                /*ignore_comments=*/true);
  } catch (const nlohmann::json::exception& e) {
    invalid(std::string("config is not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) invalid("config must be a JSON object");

  Config cfg;
  for (const auto& [key, value] : doc.items()) {
    if (key == "path") {
      cfg.path = parse_path(value);
    } else if (key == "synchronous") {
      cfg.synchronous = parse_synchronous(value);
    } else if (key == "busy_timeout_ms") {
      cfg.busy_timeout_ms = parse_busy_timeout(value);
    } else if (key == "max_size_mb") {
      cfg.max_size_mb = parse_max_size(value);
    } else {
      // A typo must not silently fall back to a default (e.g. "synchronus": "normal").
      invalid("unknown config key \"" + key +
              "\" (known keys: path, synchronous, busy_timeout_ms, max_size_mb)");
    }
  }
  return cfg;
}

std::string resolve_path(const std::string& path, const std::string& state_dir) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.string();
  return (std::filesystem::path(state_dir) / p).string();
}

const char* to_string(Synchronous s) {
  return s == Synchronous::kFull ? "full" : "normal";
}

}  // namespace vespid::sqlite
