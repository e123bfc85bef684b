#include "protocols/operator/web_methods.hpp"

#include <memory>

#include "protocols/params.hpp"
#include "runtime/api_error.hpp"
#include "runtime/logging.hpp"
#include "runtime/time.hpp"
#include "services/identity/web_sessions.hpp"
#include "storage/repository.hpp"

namespace vespid::core {

using nlohmann::json;

void require_web_url(const std::string& url) {
  const bool http = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
  bool clean = http && url.size() > std::string_view("https://").size();
  for (unsigned char c : url) clean = clean && c > 0x20 && c != 0x7f && c != '#';
  if (!clean) {
    throw api::invalid(
        "the web client's URL must be an http:// or https:// URL without a '#' "
        "fragment or spaces, like http://127.0.0.1:3000 (got \"" +
            url + "\")",
        {{"param", "url"}});
  }
}

std::string login_link(const std::string& url, const std::string& code) {
  require_web_url(url);
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/#login=" + code;
}

namespace {

class WebMethods {
 public:
  explicit WebMethods(WebMethodServices s) : s_(std::move(s)) {}

  Task<CallResult> login_link_method(CallContext c, json p) {
    (void)c;
    const std::string user_ref = params::required_string(p, "user");
    const std::string org_ref = params::optional_string(p, "org");
    std::string url = params::optional_string(p, "url");
    if (url.empty()) url = s_.default_url;
    require_web_url(url);  // before anything is issued
    Task<repo::User> user_t = s_.repo.require_user(user_ref);
    repo::User user = co_await std::move(user_t);
    std::optional<repo::Org> org;
    if (!org_ref.empty()) {
      Task<repo::Org> org_t = s_.repo.require_org(org_ref);
      org = co_await std::move(org_t);
      Task<std::optional<repo::OrgRole>> role_t = s_.repo.role_in(org->id, user.id);
      std::optional<repo::OrgRole> role = co_await std::move(role_t);
      if (!role) {
        throw api::invalid("user \"" + user.name + "\" is not a member of org \"" + org->name +
                           "\"; add them first: vespid member add --org " + org->name + " --user " +
                           user.name);
      }
    }
    Task<auth::IssuedLoginCode> issue_t =
        s_.sessions.issue_login_code(user.id, org ? org->id : std::string());
    auth::IssuedLoginCode issued = co_await std::move(issue_t);
    log::get("core")->info("one-time web sign-in link issued for user {}{} (expires {})", user.name,
                           org ? " in org " + org->name : std::string(),
                           util::iso8601(issued.expires_at_ms));
    json out = {{"link", login_link(url, issued.code)},
                {"expiresAt", util::iso8601(issued.expires_at_ms)},
                {"userId", user.id},
                {"user", user.name}};
    if (org) {
      out["orgId"] = org->id;
      out["org"] = org->name;
    }
    co_return CallResult{std::move(out), std::nullopt};
  }

 private:
  WebMethodServices s_;
};

}  // namespace

void register_web_methods(MethodTable& table, WebMethodServices services) {
  auto m = std::make_shared<WebMethods>(std::move(services));
  table.add(
      {"web.login_link",
       {Role::LocalAdmin},
       "A one-time sign-in link for the web client: {user, org?, url?}. The code is single "
       "use and expires after web.login_code_ttl_ms.",
       [m](CallContext c, json p) { return m->login_link_method(std::move(c), std::move(p)); }});
}

}  // namespace vespid::core
