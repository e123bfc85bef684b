#include "protocols/web_origin.hpp"

namespace vespid::core {

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view default_port_suffix(std::string_view scheme) {
  return scheme == "https" ? ":443" : ":80";
}

std::string without_default_port(std::string authority, std::string_view scheme) {
  const std::string_view suffix = default_port_suffix(scheme);
  if (authority.size() > suffix.size() &&
      authority.compare(authority.size() - suffix.size(), suffix.size(), suffix) == 0) {
    authority.resize(authority.size() - suffix.size());
  }
  return authority;
}

bool plausible_authority(std::string_view a) {
  if (a.empty()) return false;
  for (char c : a) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                    c == ':' || c == '[' || c == ']' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string normalized_origin(std::string_view origin) {
  std::string text = lowercase(origin);
  if (!text.empty() && text.back() == '/') text.pop_back();
  std::string_view scheme;
  if (text.rfind("http://", 0) == 0) {
    scheme = "http";
  } else if (text.rfind("https://", 0) == 0) {
    scheme = "https";
  } else {
    return {};
  }
  std::string authority = text.substr(scheme.size() + 3);
  if (!plausible_authority(authority)) return {};
  return std::string(scheme) + "://" + without_default_port(std::move(authority), scheme);
}

bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& allowed) {
  const std::string normal = normalized_origin(origin);
  if (normal.empty()) return false;
  for (const auto& a : allowed) {
    if (normalized_origin(a) == normal) return true;
  }
  const size_t sep = normal.find("://");
  const std::string_view scheme = std::string_view(normal).substr(0, sep);
  const std::string authority = normal.substr(sep + 3);
  const std::string host_authority = without_default_port(lowercase(host), scheme);
  return !host_authority.empty() && host_authority == authority;
}

}  // namespace vespid::core
