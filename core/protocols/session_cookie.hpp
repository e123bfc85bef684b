// The web session cookie on the wire (docs/web-ui.md): reading it from a Cookie header, and the
// Set-Cookie values that set and clear it. Which session it names is auth::WebSessions' job.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vespid::core {

inline constexpr std::string_view kSessionCookieName = "vespid_session";

// The value of the first vespid_session cookie in a Cookie header ("" when there is none).
// Browsers send the most specific cookie first, and the gateway only ever sets one (Path=/).
std::string session_cookie_in(std::string_view cookie_header);

// "vespid_session=<value>; Path=/; Max-Age=<s>; HttpOnly; SameSite=Strict[; Secure]".
// HttpOnly: page scripts never see it. SameSite=Strict: browsers leave it off requests that
// another site starts. Secure when the page was served over TLS.
std::string session_set_cookie(std::string_view value, int64_t max_age_seconds, bool secure);

// The same name with an empty value and Max-Age=0: the browser drops the cookie.
std::string session_clear_cookie(bool secure);

}  // namespace vespid::core
