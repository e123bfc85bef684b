// vespid nodes pending|approve|reject|list|describe|rename|tag|revoke|rm|invoke|watch
//
// Two kinds of node share one registry (docs/design.md, glossary): bridge nodes (phones, laptops
// in node mode) ask to pair over bridge.v1 and an operator approves them; node hosts
// (`vespid-agent`) pair with a pairing token and never ask. Both are listed, named, tagged,
// revoked and deleted here; only bridge nodes are invoked. Methods: nodes.*.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <limits>
#include <memory>

#include "commands.hpp"
#include "output.hpp"
#include "validators.hpp"

namespace vespid::cli {

namespace {

using nlohmann::json;

// nodes.invoke waits for the node; the client waits this much longer, so the gateway's own
// timeout (an UNAVAILABLE answer, exit 1) always comes first rather than "did not answer"
// (exit 3).
constexpr int kInvokeTimeoutMsDefault = 30000;
constexpr OperatorClient::Duration kInvokeAnswerMargin{10000};

std::string expires_in_text(const json& entry);

// The glossary's words for the registry's two kinds ("agent" on the wire is a node host).
std::string kind_text(const json& node) {
  const std::string kind = node.value("kind", "");
  if (kind == "agent") return "node host";
  if (kind == "bridge") return "bridge node";
  return kind.empty() ? "-" : kind;
}

// A paired bridge node whose later hello declared new commands waits for an operator.
bool has_reapproval(const json& node) {
  auto it = node.find("pendingReapproval");
  return it != node.end() && it->is_object();
}

// The new commands a pending re-approval asks for: "+camera.snap, +screen.record".
std::string reapproval_text(const json& node) {
  if (!has_reapproval(node)) return "-";
  std::string out;
  for (const auto& c : node["pendingReapproval"].value("addedCommands", json::array())) {
    if (!out.empty()) out += ", ";
    out += "+" + (c.is_string() ? c.get<std::string>() : c.dump());
  }
  return out.empty() ? "-" : out;
}

Table node_table(bool with_pending) {
  std::vector<std::string> headers = {"NODE",      "NAME",     "KIND", "ORG",      "STATUS",
                                      "TRANSPORT", "PLATFORM", "TAGS", "LAST SEEN"};
  // Shown only when some node waits, as `nodes pending` shows SILENT.
  if (with_pending) headers.emplace_back("AWAITING APPROVAL");
  return Table(std::move(headers));
}

std::string last_seen_text(const json& node) {
  if (node.value("status", "") == "online" && time_text(node, "lastSeenAt") == "-") return "now";
  return time_text(node, "lastSeenAt");
}

void add_node_row(Table& t, const json& node) {
  t.add_row({text(node, "nodeId"), text(node, "displayName"), kind_text(node), text(node, "orgId"),
             text(node, "status"), text(node, "transport"), text(node, "platform"),
             list_text(node, "tags"), last_seen_text(node), reapproval_text(node)});
}

// Under a table: how to answer each pending re-approval it shows.
void print_reapproval_hints(const json& nodes) {
  for (const auto& node : nodes) {
    if (!has_reapproval(node)) continue;
    const std::string request = text(node["pendingReapproval"], "requestId");
    std::cout << "node " << text(node, "nodeId") << " asks to add commands "
              << list_text(node["pendingReapproval"], "addedCommands") << ": vespid nodes approve "
              << request << "    or    vespid nodes reject " << request << '\n';
  }
}

void print_node_table(const json& nodes) {
  bool any_pending = false;
  for (const auto& node : nodes) any_pending = any_pending || has_reapproval(node);
  Table t = node_table(any_pending);
  for (const auto& node : nodes) add_node_row(t, node);
  t.print(std::cout);
  print_reapproval_hints(nodes);
}

// The answer of the methods that return {"node": Node}, as a one-row table.
void print_node_answer(const json& payload) {
  print_node_table(json::array({payload.value("node", json::object())}));
}

// "camera=true, location=false"; "-" when there are none.
std::string permissions_text(const json& node) {
  auto it = node.find("permissions");
  if (it == node.end() || it->is_null() || (it->is_object() && it->empty())) return "-";
  if (!it->is_object()) return it->dump();
  std::string out;
  for (const auto& [key, value] : it->items()) {
    if (!out.empty()) out += ", ";
    out += key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

void print_node_details(const json& node) {
  Table facts({"", ""});
  facts.add_row({"node:", text(node, "nodeId")});
  facts.add_row({"name:", text(node, "displayName")});
  facts.add_row({"kind:", kind_text(node)});
  facts.add_row({"org:", text(node, "orgId")});
  facts.add_row({"status:", text(node, "status")});
  facts.add_row({"transport:", text(node, "transport")});
  facts.add_row({"address:", text(node, "remoteAddress")});
  facts.add_row({"platform:", text(node, "platform")});
  facts.add_row({"version:", text(node, "version")});
  facts.add_row({"device family:", text(node, "deviceFamily")});
  facts.add_row({"model:", text(node, "modelIdentifier")});
  facts.add_row({"tags:", list_text(node, "tags")});
  facts.add_row({"caps:", list_text(node, "caps")});
  facts.add_row({"commands:", list_text(node, "commands")});
  if (has_reapproval(node)) {
    const json& r = node["pendingReapproval"];
    facts.add_row({"awaiting approval:", list_text(r, "addedCommands") + " (request " +
                                             text(r, "requestId") + ", expires in " +
                                             expires_in_text(r) + ")"});
  }
  if (list_text(node, "declinedCommands") != "-") {
    facts.add_row({"declined:", list_text(node, "declinedCommands")});
  }
  facts.add_row({"permissions:", permissions_text(node)});
  facts.add_row({"paired:", time_text(node, "pairedAt")});
  facts.add_row({"last seen:", last_seen_text(node)});
  facts.print(std::cout, /*with_header=*/false);
  if (has_reapproval(node)) {
    const std::string request = text(node["pendingReapproval"], "requestId");
    std::cout << "approve the new commands: vespid nodes approve " << request
              << "    or decline them: vespid nodes reject " << request << '\n';
  }
}

// How long a pending request has left: "4m 12s", or "expired".
std::string expires_in_text(const json& entry) {
  const auto expires = time_ms(entry, "expiresAt");
  if (!expires) return text(entry, "expiresAt");
  const long long left = *expires - now_ms();
  return left <= 0 ? "expired" : duration_text(left);
}

void print_pending(const json& pending) {
  bool any_silent = false;
  for (const auto& p : pending) any_silent = any_silent || p.value("silent", false);
  // What approving allows: the gateway invokes only the commands declared at pairing.
  std::vector<std::string> headers = {"REQUEST", "NODE",      "NAME",       "PLATFORM", "VERSION",
                                      "FROM",    "REQUESTED", "EXPIRES IN", "COMMANDS"};
  if (any_silent) headers.emplace_back("SILENT");
  Table t(std::move(headers));
  for (const auto& p : pending) {
    t.add_row({text(p, "requestId"), text(p, "nodeId"), text(p, "displayName"), text(p, "platform"),
               text(p, "version"), text(p, "remoteAddress"), time_text(p, "requestedAt"),
               expires_in_text(p), list_text(p, "commands"),
               p.value("silent", false) ? "yes" : "-"});
  }
  t.print(std::cout);
}

// One node.pair.requested event for a person watching: what asked, and how to answer it.
void print_pair_requested(const json& p) {
  auto has = [&p](const char* key) { return text(p, key) != "-"; };
  std::string line = time_text(p, "requestedAt") + "  pair request " + text(p, "requestId") +
                     " from node " + text(p, "nodeId");
  if (has("displayName")) line += " \"" + text(p, "displayName") + "\"";
  if (has("platform") || has("version")) {
    std::string what = has("platform") ? text(p, "platform") : "";
    if (has("version")) what += (what.empty() ? "" : " ") + text(p, "version");
    line += " (" + what + ")";
  }
  if (has("remoteAddress")) line += " at " + text(p, "remoteAddress");
  if (p.value("silent", false)) line += ", silent";
  const std::string left = expires_in_text(p);
  line += left == "expired" ? "; expired" : "; expires in " + left;
  if (list_text(p, "commands") != "-") line += "\n  commands: " + list_text(p, "commands");
  std::cout << line << "\n  vespid nodes approve " << text(p, "requestId")
            << " --org ORG    or    vespid nodes reject " << text(p, "requestId") << std::endl;
}

struct ApproveOptions {
  std::string request_id, org;
};

struct TagOptions {
  std::string node;
  std::vector<std::string> tags;
  bool clear = false;
};

struct InvokeOptions {
  std::string node, command, params;
  int timeout_ms = kInvokeTimeoutMsDefault;
};

}  // namespace

void add_nodes_commands(Registry& reg) {
  auto* group = reg.app.add_subcommand(
      "nodes", "Bridge nodes and node hosts: pair, list, tag, invoke, revoke and delete them");
  group->alias("node");
  group->require_subcommand(1);
  group->footer(
      "Examples:\n  vespid nodes pending\n  vespid nodes approve "
      "19ab7491-d7b7-4b29-8e43-948f10a83476 --org acme\n"
      "  vespid nodes list --org acme\n  vespid nodes tag ios-7d1e kitchen camera\n"
      "  vespid nodes invoke ios-7d1e location.get --params '{\"accuracy\":\"coarse\"}'\n"
      "  vespid nodes rm 9b41    (a node by the start of its id, or by its name)\n"
      "  vespid nodes watch\n"
      "Bridge nodes (bridge.v1) ask to pair and wait for `nodes approve`; node hosts "
      "(vespid-agent)\n"
      "pair with `vespid agents pairing-token` and take work through `vespid dispatch send`.");

  // pending
  auto* pending = group->add_subcommand(
      "pending", "List bridge nodes waiting for pairing approval (node hosts never wait)");
  pending->footer("Example:\n  vespid nodes pending");
  on_run(pending, reg, [&ctx = reg.ctx] {
    auto payload = ctx.call("nodes.pending");
    if (ctx.json()) return print_json(payload);
    print_pending(payload.value("pending", json::array()));
  });

  // approve
  auto a = std::make_shared<ApproveOptions>();
  auto* approve =
      group->add_subcommand("approve", "Approve a pairing request, making the node part of an org");
  approve->add_option("requestId", a->request_id, "The request, as shown by `nodes pending`")
      ->required();
  approve->add_option("--org", a->org, "The org the node joins (id or name)")->required();
  approve->footer(
      "Example:\n  vespid nodes approve 19ab7491-d7b7-4b29-8e43-948f10a83476 --org acme");
  on_run(approve, reg, [&ctx = reg.ctx, a] {
    auto payload = ctx.call("nodes.approve", {{"requestId", a->request_id}, {"org", a->org}});
    if (ctx.json()) return print_json(payload);
    print_node_answer(payload);
  });

  // reject
  auto reject_id = std::make_shared<std::string>();
  auto* reject = group->add_subcommand("reject", "Reject a pairing request");
  reject->add_option("requestId", *reject_id, "The request, as shown by `nodes pending`")
      ->required();
  reject->footer("Example:\n  vespid nodes reject 19ab7491-d7b7-4b29-8e43-948f10a83476");
  on_run(reject, reg, [&ctx = reg.ctx, reject_id] {
    auto payload = ctx.call("nodes.reject", {{"requestId", *reject_id}});
    if (ctx.json()) return print_json(payload);
    std::cout << "rejected " << *reject_id << '\n';
  });

  // list
  auto list_org = std::make_shared<std::string>();
  auto* list = group->add_subcommand(
      "list", "List paired nodes, bridge nodes and node hosts, online or not");
  list->add_option("--org", *list_org, "Only the nodes of this org (id or name)");
  list->footer("Example:\n  vespid nodes list --org acme");
  on_run(list, reg, [&ctx = reg.ctx, list_org] {
    json params = json::object();
    if (!list_org->empty()) params["org"] = *list_org;
    auto payload = ctx.call("nodes.list", params);
    if (ctx.json()) return print_json(payload);
    print_node_table(payload.value("nodes", json::array()));
  });

  // describe
  auto describe_node = std::make_shared<std::string>();
  auto* describe = group->add_subcommand(
      "describe", "Show everything known about a node: what it runs, can do and may do");
  describe
      ->add_option("node", *describe_node, "The node: its id, its name or a unique start of its id")
      ->required();
  describe->footer("Example:\n  vespid nodes describe ios-7d1e");
  on_run(describe, reg, [&ctx = reg.ctx, describe_node] {
    auto payload = ctx.call("nodes.describe", {{"node", *describe_node}});
    if (ctx.json()) return print_json(payload);
    print_node_details(payload.value("node", json::object()));
  });

  // rename
  auto rename_args = std::make_shared<std::pair<std::string, std::string>>();
  auto* rename = group->add_subcommand("rename", "Change a node's display name");
  rename
      ->add_option("node", rename_args->first,
                   "The node: its id, its name or a unique start of its id")
      ->required();
  rename->add_option("name", rename_args->second, "The new display name")->required();
  rename->footer("Example:\n  vespid nodes rename ios-7d1e \"Kitchen iPad\"");
  on_run(rename, reg, [&ctx = reg.ctx, rename_args] {
    auto payload =
        ctx.call("nodes.rename", {{"node", rename_args->first}, {"name", rename_args->second}});
    if (ctx.json()) return print_json(payload);
    print_node_answer(payload);
  });

  // tag
  auto t = std::make_shared<TagOptions>();
  auto* tag = group->add_subcommand(
      "tag", "Set a node's tags, replacing the ones it had (routing selects nodes by tag)");
  tag->add_option("node", t->node, "The node: its id, its name or a unique start of its id")
      ->required();
  auto* tags_opt = tag->add_option("tags", t->tags, "The tags, all of them");
  tag->add_flag("--clear", t->clear, "Remove every tag")->excludes(tags_opt);
  tag->footer(
      "Examples:\n  vespid nodes tag ios-7d1e kitchen camera\n  vespid nodes tag ios-7d1e --clear");
  tag->parse_complete_callback([t] {
    if (t->tags.empty() && !t->clear) {
      throw CLI::ValidationError("tags", "give at least one tag, or --clear to remove them all");
    }
  });
  on_run(tag, reg, [&ctx = reg.ctx, t] {
    auto payload = ctx.call("nodes.tag", {{"node", t->node}, {"tags", t->tags}});
    if (ctx.json()) return print_json(payload);
    print_node_answer(payload);
  });

  // revoke
  auto revoke_node = std::make_shared<std::string>();
  auto* revoke = group->add_subcommand(
      "revoke", "Revoke a node: its token stops working and its connections are closed now");
  revoke->add_option("node", *revoke_node, "The node: its id, its name or a unique start of its id")
      ->required();
  revoke->footer("Example:\n  vespid nodes revoke ios-7d1e");
  on_run(revoke, reg, [&ctx = reg.ctx, revoke_node] {
    auto payload = ctx.call("nodes.revoke", {{"node", *revoke_node}});
    if (ctx.json()) return print_json(payload);
    const auto closed = payload.value("closedConnections", 0);
    std::cout << "revoked " << text(payload.value("node", json::object()), "nodeId") << "; closed "
              << closed << (closed == 1 ? " connection" : " connections") << '\n';
  });

  // rm
  auto rm_args = std::make_shared<std::pair<std::string, bool>>("", false);
  auto* rm = group->add_subcommand(
      "rm", "Delete a node from the registry (revoked or stale entries); its token goes with it");
  rm->alias("delete");
  rm->add_option("node", rm_args->first, "The node: its id, its name or a unique start of its id")
      ->required();
  rm->add_flag("--force", rm_args->second,
               "Delete an online node too: revoke it, close its connections, then delete it");
  rm->footer(
      "Examples:\n  vespid nodes rm 7d1e\n  vespid nodes delete lab-box\n"
      "  vespid nodes rm --force lab-box    (online: revoke, disconnect and delete)");
  on_run(rm, reg, [&ctx = reg.ctx, rm_args] {
    json params = {{"node", rm_args->first}};
    if (rm_args->second) params["force"] = true;
    auto payload = ctx.call("nodes.delete", params);
    if (ctx.json()) return print_json(payload);
    const auto closed = payload.value("closedConnections", 0);
    std::cout << "deleted " << kind_text(payload) << " " << text(payload, "nodeId") << " ("
              << text(payload, "displayName") << ")";
    if (closed > 0) {
      std::cout << "; revoked it and closed " << closed
                << (closed == 1 ? " connection" : " connections");
    }
    std::cout << '\n';
  });

  // invoke
  auto inv = std::make_shared<InvokeOptions>();
  auto* invoke = group->add_subcommand(
      "invoke",
      "Run a command a bridge node declared and print its answer (node hosts take "
      "work through `vespid dispatch send` and sessions instead)");
  invoke->add_option("node", inv->node, "The node: its id, its name or a unique start of its id")
      ->required();
  invoke->add_option("command", inv->command, "The command (camera.snap, location.get, ...)")
      ->required();
  invoke->add_option("--params", inv->params, "The command's parameters, as JSON")
      ->check(json_value_validator());
  invoke
      ->add_option("--timeout", inv->timeout_ms,
                   "How long the gateway waits for the node's answer, in milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(1, std::numeric_limits<int>::max()));
  invoke->footer(
      "Examples:\n  vespid nodes invoke ios-7d1e location.get\n"
      "  vespid nodes invoke mac-01 system.run --params '{\"command\":[\"uname\",\"-a\"]}' "
      "--timeout 60000");
  on_run(invoke, reg, [&ctx = reg.ctx, inv] {
    json params = {{"node", inv->node}, {"command", inv->command}, {"timeoutMs", inv->timeout_ms}};
    if (!inv->params.empty()) params["params"] = json::parse(inv->params);
    auto payload = ctx.call("nodes.invoke", params,
                            OperatorClient::Duration(inv->timeout_ms) + kInvokeAnswerMargin);
    if (ctx.json()) return print_json(payload);
    print_json(payload.value("payload", json()));
  });

  // watch
  auto* watch = group->add_subcommand(
      "watch", "Print pairing requests as bridge nodes make them, until interrupted (Ctrl-C)");
  watch->footer(
      "Examples:\n  vespid nodes watch\n  vespid nodes watch --json    (one event per line)");
  on_run(watch, reg, [&ctx = reg.ctx] {
    // Asking first proves the gateway pairs nodes (an older one answers METHOD_NOT_FOUND) and
    // opens the connection that events arrive on; events that come during the call are kept.
    auto payload = ctx.call("nodes.pending");
    if (!ctx.json()) {
      std::cerr << "waiting for pairing requests of bridge nodes ("
                << payload.value("pending", json::array()).size()
                << " pending now, see `vespid nodes pending`); Ctrl-C to stop\n"
                << "node hosts (vespid-agent) pair with a pairing token instead and never ask "
                   "here: `vespid agents pairing-token --org ORG`, then `vespid nodes list`"
                << std::endl;
    }
    auto& client = ctx.client();
    for (;;) {
      auto event = client.read_event(std::chrono::minutes(10));
      if (!event || event->value("event", "") != "node.pair.requested") continue;
      if (ctx.json()) {
        std::cout << event->dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
      } else {
        print_pair_requested(event->value("payload", json::object()));
      }
    }
  });
}

}  // namespace vespid::cli
