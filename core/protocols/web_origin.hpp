// Whether a browser request comes from the gateway's own pages. A cookie rides along with any
// request the browser makes to the gateway, whichever page asked for it; SameSite=Strict keeps
// other *sites* out, but not another origin of the same site (another port of the same host is
// the same site). The Origin header closes that gap: browsers set it on every state-changing
// request and on every WebSocket handshake, and page scripts cannot forge it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vespid::core {

// "HTTPS://Example.com:443/" -> "https://example.com": scheme and host lowercased, the scheme's
// default port and one trailing '/' dropped. "" for anything that is not an http(s) origin
// ("null", a path, another scheme).
std::string normalized_origin(std::string_view origin);

// True when `origin` (the Origin header) names the host the request was sent to (the Host
// header, compared without the scheme's default port), or is one of `allowed` (normalised
// origins, web.allowed_origins). An empty or "null" Origin is never allowed.
bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& allowed);

}  // namespace vespid::core
