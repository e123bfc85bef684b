// vespid user create|list|gateway-admin
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "output.hpp"

namespace vespid::cli {

namespace {

struct CreateOptions {
  std::string name, email, org, role;
};

}  // namespace

void add_user_commands(Registry& reg) {
  auto* group = reg.app.add_subcommand("user", "Manage users");
  group->require_subcommand(1);
  group->footer(
      "Examples:\n  vespid user create alice --email alice@example.com --org acme --role admin\n"
      "  vespid user list --org acme\n  vespid user gateway-admin alice");

  auto c = std::make_shared<CreateOptions>();
  auto* create = group->add_subcommand("create", "Create a user, optionally as a member of an org");
  create->add_option("name", c->name, "The user's unique name")->required();
  create->add_option("--email", c->email, "Email address");
  auto* org_opt =
      create->add_option("--org", c->org, "Make the user a member of this org (id or name)");
  create->add_option("--role", c->role, "Role in --org (default member)")
      ->check(CLI::IsMember(kRoles))
      ->needs(org_opt);
  create->footer(
      "Example:\n  vespid user create alice --email alice@example.com --org acme --role admin");
  on_run(create, reg, [&ctx = reg.ctx, c] {
    nlohmann::json params = {{"name", c->name}};
    if (!c->email.empty()) params["email"] = c->email;
    if (!c->org.empty()) params["org"] = c->org;
    if (!c->role.empty()) params["role"] = c->role;
    auto payload = ctx.call("users.create", params);
    if (ctx.json()) return print_json(payload);

    const auto user = payload.value("user", nlohmann::json::object());
    const auto membership = payload.value("membership", nlohmann::json());
    if (membership.is_object()) {
      Table t({"ID", "NAME", "EMAIL", "ORG", "ROLE", "CREATED"});
      t.add_row({text(user, "id"), text(user, "name"), text(user, "email"),
                 text(membership, "orgId"), text(membership, "role"),
                 time_text(user, "createdAt")});
      t.print(std::cout);
    } else {
      Table t({"ID", "NAME", "EMAIL", "CREATED"});
      t.add_row({text(user, "id"), text(user, "name"), text(user, "email"),
                 time_text(user, "createdAt")});
      t.print(std::cout);
    }
  });

  auto list_org = std::make_shared<std::string>();
  auto* list = group->add_subcommand("list", "List users, or the members of one org");
  list->add_option("--org", *list_org, "Only members of this org (id or name), with their role");
  list->footer("Example:\n  vespid user list --org acme");
  on_run(list, reg, [&ctx = reg.ctx, list_org] {
    nlohmann::json params = nlohmann::json::object();
    if (!list_org->empty()) params["org"] = *list_org;
    auto payload = ctx.call("users.list", params);
    if (ctx.json()) return print_json(payload);

    const bool with_role = !list_org->empty();
    Table t = with_role ? Table({"ID", "NAME", "EMAIL", "ROLE", "GATEWAY ADMIN", "CREATED"})
                        : Table({"ID", "NAME", "EMAIL", "GATEWAY ADMIN", "CREATED"});
    for (const auto& u : payload.value("users", nlohmann::json::array())) {
      const std::string admin = u.value("gatewayAdmin", false) ? "yes" : "-";
      if (with_role) {
        t.add_row({text(u, "id"), text(u, "name"), text(u, "email"), text(u, "role"), admin,
                   time_text(u, "createdAt")});
      } else {
        t.add_row(
            {text(u, "id"), text(u, "name"), text(u, "email"), admin, time_text(u, "createdAt")});
      }
    }
    t.print(std::cout);
  });

  struct AdminOptions {
    std::string user;
    bool off = false;
  };
  auto a = std::make_shared<AdminOptions>();
  auto* admin = group->add_subcommand(
      "gateway-admin",
      "Make a user a gateway administrator (decides first-time pairings, sees status and logs)");
  admin->add_option("user", a->user, "The user (id or name)")->required();
  admin->add_flag("--off", a->off, "Take the gateway administrator flag away instead");
  admin->footer(
      "A gateway administrator approves first-time pairing requests (into an org they own or\n"
      "administer) and sees the gateway's status and log tail in the web client. Taking the\n"
      "flag away takes effect on the user's open connections at their next call.\n"
      "Examples:\n  vespid user gateway-admin alice\n  vespid user gateway-admin alice --off");
  on_run(admin, reg, [&ctx = reg.ctx, a] {
    auto payload = ctx.call("users.set_gateway_admin", {{"user", a->user}, {"admin", !a->off}});
    if (ctx.json()) return print_json(payload);
    const auto user = payload.value("user", nlohmann::json::object());
    std::cout << "user " << text(user, "name") << " (" << text(user, "id") << ") "
              << (user.value("gatewayAdmin", false) ? "is now a gateway administrator"
                                                    : "is no longer a gateway administrator")
              << "\n";
  });
}

}  // namespace vespid::cli
