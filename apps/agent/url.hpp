// The few URL forms the node host dials: http, https, ws, wss.
#pragma once

#include <string>

namespace vespid::agent {

struct Url {
  std::string scheme;  // lower case: http, https, ws, wss
  bool tls = false;    // https or wss
  std::string host;    // without brackets for IPv6 literals
  std::string port;    // explicit or the scheme's default
  std::string target;  // path and query, "/" at least

  // host[:port] as the Host header wants it (default ports omitted, IPv6 bracketed).
  std::string host_header() const;
};

// Throws std::invalid_argument naming what is wrong.
Url parse_url(const std::string& text);

// `base` without trailing slashes + `path` (which starts with '/').
std::string join_url(const std::string& base, const std::string& path);

}  // namespace vespid::agent
