// The web client's sign-in as the configuration sets it up (web.*; docs/web-ui.md): the checks
// `run` and `config check` both apply, and the settings the sign-in services take.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "services/identity/web_sessions.hpp"

namespace vespid::core {

// "config error: web.<key>: ..." lines: web.url and each of web.allowed_origins must be an
// http(s) URL / origin.
std::vector<std::string> web_signin_config_errors(const config::GatewayConfig& cfg);

auth::WebSessionSettings web_session_settings(const config::GatewayConfig& cfg);

}  // namespace vespid::core
