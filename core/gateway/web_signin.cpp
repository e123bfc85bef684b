#include "gateway/web_signin.hpp"

#include "gateway/exit_codes.hpp"
#include "gateway/gateway.hpp"
#include "protocols/cookie_auth.hpp"
#include "protocols/operator/web_methods.hpp"
#include "protocols/rest/web_session_routes.hpp"
#include "protocols/web_origin.hpp"
#include "runtime/api_error.hpp"

namespace vespid::core {

std::vector<std::string> web_signin_config_errors(const config::GatewayConfig& cfg) {
  std::vector<std::string> errors;
  try {
    require_web_url(cfg.string("web.url"));
  } catch (const api::ApiError& e) {
    errors.push_back(std::string("config error: web.url: ") + e.what());
  }
  for (const auto& origin : cfg.strings("web.allowed_origins")) {
    if (normalized_origin(origin).empty()) {
      errors.push_back("config error: web.allowed_origins: \"" + origin +
                       "\" is not an origin; write scheme://host[:port], like "
                       "https://vespid.example.com");
    }
  }
  return errors;
}

auth::WebSessionSettings web_session_settings(const config::GatewayConfig& cfg) {
  auth::WebSessionSettings s;
  s.login_code_ttl_ms = cfg.integer("web.login_code_ttl_ms");
  s.session_ttl_ms = cfg.integer("web.session_ttl_ms");
  s.max_sessions_per_user = static_cast<int>(cfg.integer("web.max_sessions_per_user"));
  return s;
}

void Gateway::build_web_signin() {
  const std::vector<std::string> errors = web_signin_config_errors(cfg_);
  if (!errors.empty()) throw StartupError(exit_code::kConfig, errors.front());
  web_sessions_ =
      std::make_unique<auth::WebSessions>(*storage_, *repo_, web_session_settings(cfg_));
  std::vector<std::string> allowed;
  for (const auto& origin : cfg_.strings("web.allowed_origins")) {
    allowed.push_back(normalized_origin(origin));
  }
  web_cookie_auth_ = std::make_unique<WebCookieAuth>(*web_sessions_, std::move(allowed));
}

void Gateway::register_web_signin(RestDialect& rest) {
  rest.accept_session_cookies(web_cookie_auth_.get());
  register_web_session_routes(
      rest, WebSessionRouteServices{*repo_, *web_sessions_, *web_cookie_auth_, *this,
                                    cfg_.string("web.secure_cookie") == "always"});
  register_web_methods(methods_, WebMethodServices{*repo_, *web_sessions_, cfg_.string("web.url")});
}

}  // namespace vespid::core
