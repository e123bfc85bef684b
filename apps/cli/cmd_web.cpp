// vespid web login
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "output.hpp"

namespace vespid::cli {

namespace {

struct LoginOptions {
  std::string user, org, url;
};

}  // namespace

void add_web_commands(Registry& reg) {
  auto* group = reg.app.add_subcommand("web", "Sign people in to the web control client");
  group->require_subcommand(1);
  group->footer("Example:\n  vespid web login --user alice --org acme");

  auto o = std::make_shared<LoginOptions>();
  auto* login = group->add_subcommand(
      "login", "Print a one-time sign-in link for the web client (single use, short-lived)");
  login->add_option("--user", o->user, "The user the link signs in (id or name)")->required();
  login->add_option("--org", o->org, "Bind the session to this org (id or name)");
  login->add_option("--url", o->url,
                    "The web client's address as the user opens it (default: the gateway's "
                    "web.url, http://127.0.0.1:3000 unless configured)");
  login->footer(
      "The link carries the code after '#', which browsers never send to a server, so it "
      "stays out of logs and proxies. Hand it to the user over a channel you trust.\n"
      "Example:\n  vespid web login --user alice --org acme --url https://vespid.example.com");
  on_run(login, reg, [&ctx = reg.ctx, o] {
    nlohmann::json params = {{"user", o->user}};
    if (!o->org.empty()) params["org"] = o->org;
    if (!o->url.empty()) params["url"] = o->url;
    auto payload = ctx.call("web.login_link", params);
    if (ctx.json()) return print_json(payload);
    // The link alone on stdout, so `$(vespid web login ...)` captures exactly it; the rest is
    // for the person at the terminal.
    std::cout << text(payload, "link") << std::endl;
    std::cerr << "One-time sign-in link for " << text(payload, "user")
              << (payload.contains("org") ? " in org " + text(payload, "org") : std::string())
              << ", good until " << time_text(payload, "expiresAt")
              << " and for one use. Open it in a browser.\n";
  });
}

}  // namespace vespid::cli
