#include "protocols/session_cookie.hpp"

namespace vespid::core {

namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string attributes(int64_t max_age_seconds, bool secure) {
  std::string out =
      "; Path=/; Max-Age=" + std::to_string(max_age_seconds < 0 ? 0 : max_age_seconds) +
      "; HttpOnly; SameSite=Strict";
  if (secure) out += "; Secure";
  return out;
}

}  // namespace

std::string session_cookie_in(std::string_view header) {
  while (!header.empty()) {
    const size_t end = header.find(';');
    std::string_view pair = trimmed(header.substr(0, end));
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos || trimmed(pair.substr(0, eq)) != kSessionCookieName) continue;
    std::string_view value = trimmed(pair.substr(eq + 1));
    // RFC 6265 allows a value in double quotes; the quotes are not part of it.
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return {};
}

std::string session_set_cookie(std::string_view value, int64_t max_age_seconds, bool secure) {
  return std::string(kSessionCookieName) + "=" + std::string(value) +
         attributes(max_age_seconds, secure);
}

std::string session_clear_cookie(bool secure) {
  return std::string(kSessionCookieName) + "=" + attributes(0, secure);
}

}  // namespace vespid::core
