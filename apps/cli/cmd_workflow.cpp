// vespid workflow create|list|show|update|revisions|publish: workflow specs over rest.v1
// (runs: cmd_workflow_runs.cpp)
// (docs/workflows.md). A spec is read from a file (or "-" for stdin), so it can live in git.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "commands.hpp"
#include "output.hpp"
#include "remote.hpp"
#include "usage_error.hpp"

namespace vespid::cli {

namespace {

using nlohmann::json;

// The spec in `path` ("-": stdin), parsed; a usage error names the file and what is wrong.
json read_spec(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path);
    if (!in) throw UsageError("--spec " + path + ": cannot read the file");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  json spec = json::parse(text, nullptr, false);
  if (spec.is_discarded()) throw UsageError("--spec " + path + ": not JSON");
  return spec;
}

void print_workflows(const json& list) {
  Table t({"WORKFLOW", "NAME", "STATUS", "REVISION", "VERSION", "UPDATED"});
  for (const auto& w : list) {
    t.add_row({text(w, "id"), text(w, "name"), text(w, "status"), text(w, "revision"),
               w.contains("dsl") ? text(w["dsl"], "version") : "-", time_text(w, "updatedAt")});
  }
  t.print(std::cout);
}

void print_workflow(const json& w) {
  print_workflows(json::array({w}));
}

}  // namespace

void add_workflow_commands(Registry& reg) {
  auto* group = reg.app.add_subcommand(
      "workflow", "Workflow specs, stored and versioned per org (over the network: --api)");
  group->require_subcommand(1);
  group->footer(
      "Examples:\n"
      "  vespid workflow create --name nightly --spec nightly.json --api http://localhost:3001 "
      "--org acme --token $TOKEN\n"
      "  vespid workflow list\n"
      "  vespid workflow update $WF --spec nightly.json\n"
      "  vespid workflow publish $WF\n"
      "  vespid workflow run $WF --input '{\"env\":\"prod\"}' --wait\n"
      "  vespid workflow runs $WF\n"
      "  vespid workflow events $WF $RUN --follow\n"
      "A refused spec lists every problem with its node and field. The format: docs/workflows.md.\n"
      "VESPID_API, VESPID_ORG and VESPID_TOKEN stand in for the options.");

  auto cr = std::make_shared<Remote>();
  auto name = std::make_shared<std::string>();
  auto spec = std::make_shared<std::string>();
  auto* create = group->add_subcommand("create", "Store a new workflow (a draft) and print its id");
  add_remote_options(create, *cr, false);
  create->add_option("--name", *name, "What to call it")->required();
  create->add_option("--spec", *spec, "The spec file (JSON, v2 or v3); - reads stdin")->required();
  on_run(create, reg, [&ctx = reg.ctx, cr, name, spec] {
    json r = rest_call(*cr, "POST", "/workflows", {{"name", *name}, {"dsl", read_spec(*spec)}});
    if (ctx.json()) return print_json(r);
    std::cout << text(r["workflow"], "id") << std::endl;
  });

  auto lr = std::make_shared<Remote>();
  auto limit = std::make_shared<int>(50);
  auto* list = group->add_subcommand("list", "List the org's workflows, newest first");
  add_remote_options(list, *lr, false);
  list->add_option("--limit", *limit, "At most this many")
      ->capture_default_str()
      ->check(CLI::Range(1, 200));
  on_run(list, reg, [&ctx = reg.ctx, lr, limit] {
    json r = rest_call(*lr, "GET", "/workflows?limit=" + std::to_string(*limit));
    if (ctx.json()) return print_json(r);
    print_workflows(r.value("workflows", json::array()));
  });

  auto sr = std::make_shared<Remote>();
  auto sid = std::make_shared<std::string>();
  auto* show = group->add_subcommand("show", "Print a workflow and its spec");
  add_remote_options(show, *sr, false);
  show->add_option("workflow", *sid, "The workflow id")->required();
  on_run(show, reg, [&ctx = reg.ctx, sr, sid] {
    json r = rest_call(*sr, "GET", "/workflows/" + *sid);
    if (ctx.json()) return print_json(r);
    print_workflow(r["workflow"]);
    std::cout << '\n' << r["workflow"]["dsl"].dump(2) << '\n';
  });

  auto ur = std::make_shared<Remote>();
  auto uid = std::make_shared<std::string>();
  auto uname = std::make_shared<std::string>();
  auto uspec = std::make_shared<std::string>();
  auto* update =
      group->add_subcommand("update", "Store a new revision of a draft (its name, its spec)");
  add_remote_options(update, *ur, false);
  update->add_option("workflow", *uid, "The workflow id")->required();
  update->add_option("--name", *uname, "A new name");
  update->add_option("--spec", *uspec, "A new spec file; - reads stdin");
  on_run(update, reg, [&ctx = reg.ctx, ur, uid, uname, uspec] {
    json body = json::object();
    if (!uname->empty()) body["name"] = *uname;
    if (!uspec->empty()) body["dsl"] = read_spec(*uspec);
    if (body.empty()) throw UsageError("give --name, --spec or both");
    json r = rest_call(*ur, "PUT", "/workflows/" + *uid, body);
    if (ctx.json()) return print_json(r);
    print_workflow(r["workflow"]);
  });

  auto rr = std::make_shared<Remote>();
  auto rid = std::make_shared<std::string>();
  auto* revisions = group->add_subcommand("revisions", "List a workflow's revisions, newest first");
  add_remote_options(revisions, *rr, false);
  revisions->add_option("workflow", *rid, "The workflow id")->required();
  on_run(revisions, reg, [&ctx = reg.ctx, rr, rid] {
    json r = rest_call(*rr, "GET", "/workflows/" + *rid + "/revisions");
    if (ctx.json()) return print_json(r);
    Table t({"REVISION", "NAME", "CREATED", "BY"});
    for (const auto& v : r.value("revisions", json::array()))
      t.add_row({text(v, "revision"), text(v, "name"), time_text(v, "createdAt"),
                 text(v, "createdByUserId")});
    t.print(std::cout);
  });

  auto pr = std::make_shared<Remote>();
  auto pid = std::make_shared<std::string>();
  auto* publish = group->add_subcommand("publish", "Publish a draft: its spec is then fixed");
  add_remote_options(publish, *pr, false);
  publish->add_option("workflow", *pid, "The workflow id")->required();
  on_run(publish, reg, [&ctx = reg.ctx, pr, pid] {
    json r = rest_call(*pr, "POST", "/workflows/" + *pid + "/publish", json::object());
    if (ctx.json()) return print_json(r);
    print_workflow(r["workflow"]);
  });

  add_workflow_run_commands(group, reg);
}

}  // namespace vespid::cli
