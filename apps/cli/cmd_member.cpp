// vespid member add
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
}

}  // namespace vespid::cli
