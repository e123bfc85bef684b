// operator.v1 methods of the web control client's sign-in (docs/web-ui.md):
//   web.login_link {user, org?, url?} -> {link, expiresAt, userId, user, orgId?, org?}
// Local admin only: whoever can open the gateway's admin socket vouches for the person the link
// is handed to (`vespid web login`).
#pragma once

#include <string>

#include "protocols/method_table.hpp"

namespace vespid::repo {
class Repository;
}
namespace vespid::auth {
class WebSessions;
}

namespace vespid::core {

struct WebMethodServices {
  repo::Repository& repo;
  auth::WebSessions& sessions;
  std::string default_url;  // web.url: where the web client is opened
};

void register_web_methods(MethodTable& table, WebMethodServices services);

// Throws api::ApiError INVALID_REQUEST unless `url` is an http(s) URL without a fragment.
void require_web_url(const std::string& url);

// "<url>/#login=<code>": the code rides in the fragment, which browsers never send to a server,
// so it stays out of access logs, proxies and Referer headers. Checks `url` as above.
std::string login_link(const std::string& url, const std::string& code);

}  // namespace vespid::core
