#include "dial_url.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/scheme.hpp>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace vespid {

namespace urls = boost::urls;

namespace {

struct ZoneSetAside {
  std::string url;   // the URL without the zone
  std::string zone;  // "eth0", or empty
};

// RFC 3986 has no room for an IPv6 zone in an IP-literal and Boost.URL follows it, but a
// link-local address means nothing without one, and the node host dials the ones it discovers
// ("wss://[fe80::1%eth0]:3002/ws"). The zone is taken out for the parse and put back on the host.
ZoneSetAside set_zone_aside(std::string_view text) {
  const auto open = text.find("://[");
  if (open == std::string_view::npos) return {std::string(text), {}};
  const auto close = text.find(']', open);
  const auto percent = text.find('%', open);
  if (close == std::string_view::npos || percent == std::string_view::npos || percent > close) {
    return {std::string(text), {}};
  }
  return {std::string(text.substr(0, percent)) + std::string(text.substr(close)),
          std::string(text.substr(percent + 1, close - percent - 1))};
}

// 1 to 65535. Boost.URL 1.81 takes any run of digits as the port, and its port_number() wraps.
bool is_port_number(std::string_view digits) {
  unsigned long value = 0;
  const char* end = digits.data() + digits.size();
  const auto [stop, ec] = std::from_chars(digits.data(), end, value);
  return ec == std::errc() && stop == end && value >= 1 && value <= 65535;
}

}  // namespace

std::string DialUrl::host_header() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const bool default_port = (tls && port == "443") || (!tls && port == "80");
  return default_port ? h : h + ":" + port;
}

DialUrl parse_dial_url(std::string_view text) {
  const ZoneSetAside split = set_zone_aside(text);
  // An interface name: letters, digits and "-_.", as the kernel allows (IFNAMSIZ 16). Anything
  // else would reach the Host header unchecked.
  const bool zone_ok =
      split.zone.size() <= 15 && std::all_of(split.zone.begin(), split.zone.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  if (!zone_ok) {
    throw std::invalid_argument("\"" + std::string(text) +
                                "\" has an IPv6 zone that is not an interface name");
  }
  const auto parsed = urls::parse_uri(split.url);
  // After an authority the path is empty or starts with '/' (RFC 3986 path-abempty); Boost.URL
  // 1.81 lets "http://h:80x/" through as port 80 and path "x/".
  if (!parsed || !parsed->has_authority() ||
      (!parsed->encoded_path().empty() && parsed->encoded_path().front() != '/')) {
    throw std::invalid_argument("\"" + std::string(text) +
                                "\" is not a URL (expected scheme://host[:port]/...)");
  }
  const urls::url_view& u = *parsed;
  const urls::scheme id = u.scheme_id();
  if (id != urls::scheme::http && id != urls::scheme::https && id != urls::scheme::ws &&
      id != urls::scheme::wss) {
    throw std::invalid_argument("unsupported URL scheme \"" + std::string(u.scheme()) + "\" in " +
                                std::string(text));
  }
  if (u.has_userinfo()) {
    throw std::invalid_argument("credentials in URLs are not supported: " + std::string(text));
  }
  DialUrl d;
  d.scheme = std::string(urls::to_string(id));
  d.tls = id == urls::scheme::https || id == urls::scheme::wss;
  d.host = std::string(u.encoded_host_address());
  if (d.host.empty()) throw std::invalid_argument("no host in URL " + std::string(text));
  if (!split.zone.empty()) d.host += "%" + split.zone;
  if (u.port().empty()) {
    d.port = std::to_string(urls::default_port(id));
  } else if (!is_port_number(u.port())) {
    throw std::invalid_argument("bad port in URL " + std::string(text));
  } else {
    d.port = std::string(u.port());
  }
  d.path = std::string(u.encoded_path());
  d.target = std::string(u.encoded_target());
  if (d.target.empty() || d.target.front() == '?') {
    // Built anew rather than insert(0, "/"): GCC 12 at -O2 and above warns (-Wrestrict, a false
    // positive) about the insert.
    std::string rooted(1, '/');
    rooted.append(d.target);
    d.target = std::move(rooted);
  }
  return d;
}

std::string join_url(const std::string& base, const std::string& path) {
  std::string b = base;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b + path;
}

}  // namespace vespid
