// vespid org create|list
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "output.hpp"

namespace vespid::cli {

namespace {

Table org_table() {
  return Table({"ID", "NAME", "CREATED"});
}

void add_org_row(Table& t, const nlohmann::json& org) {
  t.add_row({text(org, "id"), text(org, "name"), time_text(org, "createdAt")});
}

}  // namespace

void add_org_commands(Registry& reg) {
  auto* group = reg.app.add_subcommand("org", "Manage organisations");
  group->require_subcommand(1);
  group->footer("Examples:\n  vespid org create acme\n  vespid org list");

  auto name = std::make_shared<std::string>();
  auto* create = group->add_subcommand("create", "Create an organisation");
  create->add_option("name", *name, "The organisation's unique name")->required();
  create->footer("Example:\n  vespid org create acme");
  on_run(create, reg, [&ctx = reg.ctx, name] {
    auto payload = ctx.call("orgs.create", {{"name", *name}});
    if (ctx.json()) return print_json(payload);
    Table t = org_table();
    add_org_row(t, payload.value("org", nlohmann::json::object()));
    t.print(std::cout);
  });

  auto* list = group->add_subcommand("list", "List organisations");
  list->footer("Example:\n  vespid org list");
  on_run(list, reg, [&ctx = reg.ctx] {
    auto payload = ctx.call("orgs.list");
    if (ctx.json()) return print_json(payload);
    Table t = org_table();
    for (const auto& org : payload.value("orgs", nlohmann::json::array())) add_org_row(t, org);
    t.print(std::cout);
  });
}

}  // namespace vespid::cli
