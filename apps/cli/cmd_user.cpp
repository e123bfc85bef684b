// vespid user create|list
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
      "  vespid user list --org acme");

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
    Table t = with_role ? Table({"ID", "NAME", "EMAIL", "ROLE", "CREATED"})
                        : Table({"ID", "NAME", "EMAIL", "CREATED"});
    for (const auto& u : payload.value("users", nlohmann::json::array())) {
      if (with_role) {
        t.add_row({text(u, "id"), text(u, "name"), text(u, "email"), text(u, "role"),
                   time_text(u, "createdAt")});
      } else {
        t.add_row({text(u, "id"), text(u, "name"), text(u, "email"), time_text(u, "createdAt")});
      }
    }
    t.print(std::cout);
  });
}

}  // namespace vespid::cli
