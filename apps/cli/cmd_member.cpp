// vespid member add | remove
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "output.hpp"

namespace vespid::cli {

namespace {

struct AddOptions {
  std::string org, user, role;
};

struct RemoveOptions {
  std::string org, user;
};

}  // namespace

void add_member_commands(Registry& reg) {
  auto* group = reg.app.add_subcommand("member", "Manage org memberships");
  group->require_subcommand(1);
  group->footer("Example:\n  vespid member add --org acme --user alice --role admin");

  auto a = std::make_shared<AddOptions>();
  auto* add = group->add_subcommand("add", "Add a user to an org with a role");
  add->add_option("--org", a->org, "The org (id or name)")->required();
  add->add_option("--user", a->user, "The user (id or name)")->required();
  add->add_option("--role", a->role, "owner, admin or member")
      ->required()
      ->check(CLI::IsMember(kRoles));
  add->footer("Example:\n  vespid member add --org acme --user alice --role admin");
  on_run(add, reg, [&ctx = reg.ctx, a] {
    auto payload = ctx.call("members.add", {{"org", a->org}, {"user", a->user}, {"role", a->role}});
    if (ctx.json()) return print_json(payload);
    const auto m = payload.value("membership", nlohmann::json::object());
    Table t({"ORG", "USER", "ROLE"});
    t.add_row({text(m, "orgId"), text(m, "userId"), text(m, "role")});
    t.print(std::cout);
  });

  auto r = std::make_shared<RemoveOptions>();
  auto* remove = group->add_subcommand(
      "remove", "Remove a user from an org; their open connections in it are closed");
  remove->add_option("--org", r->org, "The org (id or name)")->required();
  remove->add_option("--user", r->user, "The user (id or name)")->required();
  remove->footer("Example:\n  vespid member remove --org acme --user bob");
  on_run(remove, reg, [&ctx = reg.ctx, r] {
    auto payload = ctx.call("members.remove", {{"org", r->org}, {"user", r->user}});
    if (ctx.json()) return print_json(payload);
    std::cout << "removed " << r->user << " from " << r->org << "; "
              << payload.value("closedConnections", 0) << " open connection(s) closed\n";
  });
}

}  // namespace vespid::cli
