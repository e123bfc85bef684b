#include "config.hpp"

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vespid/plugin.hpp>

namespace vespid::postgres {
namespace {

constexpr std::array<std::string_view, 6> kSslModes = {"disable", "allow",     "prefer",
                                                       "require", "verify-ca", "verify-full"};

[[noreturn]] void invalid(const std::string& message) {
  throw vsp::Error(VSP_E_INVALID, "postgres: " + message);
}

std::string non_empty_string(const nlohmann::json& v, const char* key) {
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
    invalid(std::string("\"") + key + "\" must be a non-empty string");
  }
  const auto& s = v.get_ref<const std::string&>();
  // libpq takes C strings: a NUL would silently cut the value short.
  if (s.find('\0') != std::string::npos) {
    invalid(std::string("\"") + key + "\" must not contain a NUL byte");
  }
  return s;
}

// A plain lower-case identifier, so it can be written into SQL quoted without surprises and
// reads the same in psql without quotes. PostgreSQL truncates identifiers past 63 bytes.
std::string parse_schema(const nlohmann::json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : std::string();
  bool ok = !s.empty() && s.size() <= 63 && !(s[0] >= '0' && s[0] <= '9');
  for (char c : s) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok || s.rfind("pg_", 0) == 0) {
    invalid(
        "\"schema\" must be 1 to 63 characters of a-z, 0-9 and _, not starting with a digit or "
        "\"pg_\"");
  }
  return s;
}

// nlohmann/json keeps non-negative integer literals as number_unsigned, so this accepts exactly
// the integers in range (not 1.0, not -1).
uint64_t parse_uint(const nlohmann::json& v, const char* key, uint64_t min, uint64_t max) {
  if (v.is_number_unsigned() && v.get<uint64_t>() >= min && v.get<uint64_t>() <= max) {
    return v.get<uint64_t>();
  }
  invalid(std::string("\"") + key + "\" must be an integer from " + std::to_string(min) + " to " +
          std::to_string(max));
}

}  // namespace

bool is_sslmode(std::string_view mode) {
  for (auto m : kSslModes) {
    if (m == mode) return true;
  }
  return false;
}

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
  bool have_conninfo = false;
  for (const auto& [key, value] : doc.items()) {
    if (key == "conninfo") {
      cfg.conninfo = non_empty_string(value, "conninfo");
      have_conninfo = true;
    } else if (key == "schema") {
      cfg.schema = parse_schema(value);
    } else if (key == "pool_size") {
      cfg.pool_size = static_cast<unsigned>(parse_uint(value, "pool_size", 1, 64));
    } else if (key == "sslmode") {
      if (!value.is_string() || !is_sslmode(value.get_ref<const std::string&>())) {
        invalid(
            "\"sslmode\" must be one of \"disable\", \"allow\", \"prefer\", \"require\", "
            "\"verify-ca\", \"verify-full\"");
      }
      cfg.sslmode = value.get<std::string>();
    } else if (key == "sslrootcert") {
      cfg.sslrootcert = non_empty_string(value, "sslrootcert");
    } else if (key == "connect_timeout_ms") {
      cfg.connect_timeout =
          std::chrono::milliseconds(parse_uint(value, "connect_timeout_ms", 100, 600000));
    } else if (key == "request_timeout_ms") {
      cfg.request_timeout =
          std::chrono::milliseconds(parse_uint(value, "request_timeout_ms", 100, 3600000));
    } else {
      // A typo must not silently fall back to a default (e.g. "sslmod": "verify-full").
      invalid("unknown config key \"" + key +
              "\" (known keys: conninfo, schema, pool_size, sslmode, sslrootcert, "
              "connect_timeout_ms, request_timeout_ms)");
    }
  }
  if (!have_conninfo) {
    invalid(
        "config needs \"conninfo\", a libpq connection string such as \"host=127.0.0.1 "
        "port=5432 dbname=vespid user=vespid\"");
  }
  return cfg;
}

}  // namespace vespid::postgres
