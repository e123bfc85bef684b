// "@web" as an instance's static_dir stands for the web control client's files, so the default
// "web" listener finds them without configuration: web.dir when set, else the files installed
// with the gateway, <prefix>/share/vespid/web next to the running binary. A build tree mirrors
// the install tree (share/vespid/web there is a link to apps/web), so a freshly built gateway
// serves the pages from the checkout.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vespid::config {

inline constexpr const char* kWebDirPlaceholder = "@web";

// <dir of the running binary>/../share/vespid/web, or "" when the binary's path is unknown.
std::string installed_web_dir();

// Replaces every "static_dir": "@web" in `effective`'s plugin instances with web.dir (or the
// installed directory). A directory that is not there is an error in `errors` that names it and
// says what to do.
void apply_web_dir(nlohmann::json& effective, std::vector<std::string>& errors);

}  // namespace vespid::config
