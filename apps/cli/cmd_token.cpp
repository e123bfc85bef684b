// vespid token create|list|revoke
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "output.hpp"

namespace vespid::cli {

namespace {

struct CreateOptions {
  std::string user, org, name;
  long long ttl = 0;
};

// active, revoked or expired. expiresAt is compared as text with the current time in the same
// ISO 8601 UTC form, which orders like the instants themselves.
std::string token_state(const nlohmann::json& tok) {
  if (tok.value("revoked", false)) return "revoked";
  const std::string expires = time_text(tok, "expiresAt");
  if (expires != "-" && expires < time_text({{"now", now_ms()}}, "now")) return "expired";
  return "active";
}

}  // namespace

void add_token_commands(Registry& reg) {
  auto* group = reg.app.add_subcommand("token", "Manage access tokens for control clients");
  group->require_subcommand(1);
  group->footer(
      "Examples:\n  vespid token create --user alice --org acme --name laptop --ttl 86400\n"
      "  vespid token list --user alice\n  vespid token revoke 660db41222e6d9ec");

  auto c = std::make_shared<CreateOptions>();
  auto* create = group->add_subcommand("create", "Create an access token (shown only once)");
  create->add_option("--user", c->user, "The user the token acts as (id or name)")->required();
  create->add_option("--org", c->org, "Scope the token to this org (id or name)");
  create->add_option("--name", c->name, "A label to recognise the token by in `token list`");
  create->add_option("--ttl", c->ttl, "Lifetime in seconds (default: no expiry)")
      ->check(CLI::PositiveNumber);
  create->footer("Example:\n  TOKEN=$(vespid token create --user alice --org acme --ttl 86400)");
  on_run(create, reg, [&ctx = reg.ctx, c] {
    nlohmann::json params = {{"user", c->user}};
    if (!c->org.empty()) params["org"] = c->org;
    if (!c->name.empty()) params["name"] = c->name;
    if (c->ttl > 0) params["ttlSeconds"] = c->ttl;
    auto payload = ctx.call("tokens.create", params);
    if (ctx.json()) return print_json(payload);
    // The secret alone on stdout, so `$(vespid token create ...)` captures exactly it; the rest
    // is for the person at the terminal.
    std::cout << text(payload, "token") << std::endl;
    std::cerr << "token id " << text(payload, "tokenId") << ", user " << text(payload, "userId")
              << ", expires "
              << (payload.contains("expiresAt") ? time_text(payload, "expiresAt")
                                                : std::string("never"))
              << "\nThis token will not be shown again: store it now.\n";
  });

  auto list_user = std::make_shared<std::string>();
  auto* list = group->add_subcommand("list", "List a user's tokens (never the secrets)");
  list->add_option("--user", *list_user, "The user (id or name)")->required();
  list->footer("Example:\n  vespid token list --user alice");
  on_run(list, reg, [&ctx = reg.ctx, list_user] {
    auto payload = ctx.call("tokens.list", {{"user", *list_user}});
    if (ctx.json()) return print_json(payload);
    Table t({"TOKEN ID", "NAME", "ORG", "STATE", "CREATED", "EXPIRES", "LAST USED"});
    for (const auto& tok : payload.value("tokens", nlohmann::json::array())) {
      t.add_row({text(tok, "tokenId"), text(tok, "name"), text(tok, "orgId"), token_state(tok),
                 time_text(tok, "createdAt"), time_text(tok, "expiresAt"),
                 time_text(tok, "lastUsedAt")});
    }
    t.print(std::cout);
  });

  auto token_id = std::make_shared<std::string>();
  auto* revoke = group->add_subcommand("revoke", "Revoke a token so it stops working at once");
  revoke->add_option("tokenId", *token_id, "The token's id, as shown by `token list`")->required();
  revoke->footer("Example:\n  vespid token revoke 660db41222e6d9ec");
  on_run(revoke, reg, [&ctx = reg.ctx, token_id] {
    auto payload = ctx.call("tokens.revoke", {{"tokenId", *token_id}});
    if (ctx.json()) return print_json(payload);
    // Revoking is idempotent; say so rather than pretend something changed.
    const bool changed = payload.value("changed", true);
    std::cout << (changed ? "revoked " : "already revoked ") << *token_id << '\n';
  });
}

}  // namespace vespid::cli
