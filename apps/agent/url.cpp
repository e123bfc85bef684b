#include "url.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace vespid::agent {

std::string Url::host_header() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const bool default_port = (tls && port == "443") || (!tls && port == "80");
  return default_port ? h : h + ":" + port;
}

Url parse_url(const std::string& text) {
  const auto sep = text.find("://");
  if (sep == std::string::npos) {
    throw std::invalid_argument("\"" + text +
                                "\" is not a URL (expected scheme://host[:port]/...)");
  }
  Url u;
  u.scheme = text.substr(0, sep);
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (u.scheme == "http" || u.scheme == "ws") {
    u.tls = false;
  } else if (u.scheme == "https" || u.scheme == "wss") {
    u.tls = true;
  } else {
    throw std::invalid_argument("unsupported URL scheme \"" + u.scheme + "\" in " + text);
  }
  const std::string rest = text.substr(sep + 3);
  const auto slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!u.target.empty() && u.target.front() == '?') u.target = "/" + u.target;
  if (authority.find('@') != std::string::npos) {
    throw std::invalid_argument("credentials in URLs are not supported: " + text);
  }
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) throw std::invalid_argument("bad IPv6 literal in " + text);
    u.host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw std::invalid_argument("bad authority in " + text);
      u.port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) u.port = authority.substr(colon + 1);
  }
  if (u.host.empty()) throw std::invalid_argument("no host in URL " + text);
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  if (!std::all_of(u.port.begin(), u.port.end(), [](unsigned char c) { return std::isdigit(c); })) {
    throw std::invalid_argument("bad port in URL " + text);
  }
  return u;
}

std::string join_url(const std::string& base, const std::string& path) {
  std::string b = base;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b + path;
}

}  // namespace vespid::agent
