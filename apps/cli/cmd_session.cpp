// vespid session list|create|send|events|reset
//
// The control-client side of sessions, as the seed writes it: REST for the records
// (`--api http://HOST:3001`), the vespid.client.v1 WebSocket for sending and streaming
// (`--gateway ws://HOST:3002/ws/client`), an access token and an org on every call. These talk
// to the gateway over the network, not over the admin socket, so they work from any machine.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <vector>

#include "commands.hpp"
#include "dial_url.hpp"  // libs/url
#include "output.hpp"
#include "web_client.hpp"

namespace vespid::cli {

namespace {

using nlohmann::json;

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

struct Endpoint {
  web::WebTarget target;
  std::string path;  // without a trailing '/'
};

// "http://127.0.0.1:3001", "https://gw.example:443/base", "ws://h:3002/ws/client".
Endpoint endpoint_for(const std::string& url, const std::string& ca_file) {
  DialUrl u;
  try {
    u = parse_dial_url(url);
  } catch (const std::invalid_argument& e) {
    throw OperatorError("BAD_URL", e.what(), json::object());
  }
  Endpoint e;
  e.target.tls = u.tls;
  e.target.ca_file = ca_file;
  e.path = u.path;
  while (!e.path.empty() && e.path.back() == '/') e.path.pop_back();
  // The client connects to an address; a name is what TLS verifies.
  e.target.server_name = u.host;
  e.target.host = u.host == "localhost" ? "127.0.0.1" : u.host;
  e.target.port = std::stoi(u.port);
  return e;
}

struct Remote {
  std::string api = env_or("VESPID_API", "http://127.0.0.1:3001");
  std::string gateway = env_or("VESPID_GATEWAY", "ws://127.0.0.1:3002/ws/client");
  std::string org = env_or("VESPID_ORG", "");
  std::string token = env_or("VESPID_TOKEN", "");
  std::string ca_file = env_or("VESPID_CA_FILE", "");
};

void add_remote_options(CLI::App* cmd, Remote& r, bool needs_gateway) {
  cmd->add_option("--api", r.api, "The gateway's HTTP API (env VESPID_API)")->capture_default_str();
  if (needs_gateway) {
    cmd->add_option("--gateway", r.gateway, "The control-client WebSocket (env VESPID_GATEWAY)")
        ->capture_default_str();
  }
  cmd->add_option("--org", r.org, "The org id (env VESPID_ORG)");
  cmd->add_option("--token", r.token, "An access token, vat_... (env VESPID_TOKEN)");
  cmd->add_option("--ca-file", r.ca_file,
                  "PEM CA to trust for https/wss, besides the system's (env VESPID_CA_FILE)");
}

void require(const Remote& r) {
  if (r.org.empty())
    throw OperatorError("USAGE", "--org (or VESPID_ORG) is required", json::object());
  if (r.token.empty()) {
    throw OperatorError("USAGE", "--token (or VESPID_TOKEN) is required: vespid token create",
                        json::object());
  }
}

// One REST call; non-2xx answers become OperatorError (exit 1) with the gateway's code.
json rest_call(const Remote& r, const std::string& method, const std::string& path,
               const json& body = nullptr) {
  require(r);
  Endpoint e = endpoint_for(r.api, r.ca_file);
  web::Headers h = {{"Authorization", "Bearer " + r.token}};
  web::HttpReply reply = web::http_request(e.target, method, e.path + "/v1/orgs/" + r.org + path, h,
                                           body.is_null() ? "" : body.dump());
  if (reply.status == 0) throw ConnectionError("cannot reach " + r.api + ": " + reply.error);
  if (reply.status < 200 || reply.status >= 300) {
    throw OperatorError(reply.body.value("code", "HTTP_" + std::to_string(reply.status)),
                        reply.body.value("message", reply.raw_body),
                        reply.body.value("details", json()));
  }
  return reply.body;
}

void print_sessions(const json& list) {
  Table t({"SESSION", "TITLE", "ENGINE", "PINNED TO", "LAST ACTIVITY"});
  for (const auto& s : list) {
    t.add_row({text(s, "id"), text(s, "title"), text(s, "engine"), text(s, "pinnedAgentId"),
               time_text(s, "lastActivityAt")});
  }
  t.print(std::cout);
}

void print_event(const json& ev) {
  std::string payload = ev.contains("payload")
                            ? ev["payload"].dump(-1, ' ', false, json::error_handler_t::replace)
                            : "";
  std::cout << text(ev, "seq") << "  " << time_text(ev, "createdAt") << "  "
            << text(ev, "eventType") << "  " << payload << '\n';
}

struct CreateOptions {
  std::string title, engine = "vespid.loop.v1", model, instructions, tag, group;
};

struct SendOptions {
  std::string session, message, idempotency_key;
  int timeout_s = 300;
};

// Streams one turn: join (to hear it), send, then print deltas until agent_final or error.
void send_and_stream(Context& ctx, const Remote& r, const SendOptions& o) {
  require(r);
  Endpoint e = endpoint_for(r.gateway, r.ca_file);
  web::WsClient ws(e.target);
  json refusal;
  int status = ws.connect(e.path.empty() ? "/ws/client" : e.path,
                          {{"Authorization", "Bearer " + r.token}, {"x-org-id", r.org}}, &refusal);
  if (status == 0) throw ConnectionError("cannot reach " + r.gateway + ": " + ws.close_reason());
  if (status != 101) {
    throw OperatorError(refusal.value("code", "HTTP_" + std::to_string(status)),
                        refusal.value("message", "the gateway refused the WebSocket"), json());
  }
  ws.send({{"type", "session_join"}, {"sessionId", o.session}, {"afterSeq", 0}});
  auto joined = ws.read_type("session_joined", std::chrono::seconds(30));
  if (!joined) throw ConnectionError("no answer to session_join from " + r.gateway);
  json send = {{"type", "session_send"}, {"sessionId", o.session}, {"message", o.message}};
  if (!o.idempotency_key.empty()) send["idempotencyKey"] = o.idempotency_key;
  ws.send(send);

  long long my_seq = -1;
  bool streamed = false;
  std::vector<json> early;  // events that came before session_accepted told us our seq
  // True when the turn ended (agent_final); throws on its error.
  auto handle = [&](const json& m) -> bool {
    if (m.value("seq", 0LL) <= my_seq) return false;  // earlier turns, replayed on join
    const std::string ev = m.value("eventType", "");
    const json& payload = m["payload"];
    if (ctx.json()) std::cout << m.dump() << std::endl;
    if (ev == "agent_selected" && !ctx.json()) {
      std::cerr << "(pinned to node host " << payload.value("agentId", "?") << ")\n";
    } else if (ev == "agent_delta" && !ctx.json()) {
      std::cout << payload.value("text", "") << std::flush;
      streamed = true;
    } else if (ev == "agent_final") {
      if (!ctx.json()) {
        if (!streamed) std::cout << payload.value("text", "");
        std::cout << std::endl;
      }
      return true;
    } else if (ev == "error") {
      if (streamed && !ctx.json()) std::cout << std::endl;
      throw OperatorError(payload.value("code", "ERROR"), payload.value("message", ""), json());
    }
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    auto m = ws.read(std::chrono::seconds(1));
    if (!m) {
      if (ws.closed())
        throw ConnectionError("the gateway closed the connection: " + ws.close_reason());
      continue;
    }
    const std::string type = m->value("type", "");
    if (type == "session_error") {
      throw OperatorError(m->value("code", "ERROR"), m->value("message", ""), json());
    }
    if (type == "session_accepted") {
      my_seq = m->value("seq", -1LL);
      if (m->value("duplicate", false) && !ctx.json())
        std::cerr << "(already sent with this idempotency key; not run again)\n";
      for (const auto& held : early) {
        if (handle(held)) return;
      }
      early.clear();
      continue;
    }
    if (type != "session_event" || m->value("sessionId", "") != o.session) continue;
    if (my_seq < 0) {
      early.push_back(*m);
    } else if (handle(*m)) {
      return;
    }
  }
  throw ConnectionError("no agent_final within " + std::to_string(o.timeout_s) + " s");
}

}  // namespace

void add_session_commands(Registry& reg) {
  auto* group = reg.app.add_subcommand(
      "session", "Interactive sessions pinned to node hosts (over the network: --api, --gateway)");
  group->require_subcommand(1);
  group->footer(
      "Examples:\n"
      "  vespid session list --api http://localhost:3001 --org $ORG --token $TOKEN\n"
      "  vespid session create --api http://localhost:3001 --org $ORG --token $TOKEN "
      "--model gpt-4.1-mini --instructions \"...\"\n"
      "  vespid session send --gateway ws://localhost:3002/ws/client --org $ORG --token $TOKEN "
      "--session $SID --message \"hello\"\n"
      "  vespid session events $SID --after 10\n"
      "VESPID_API, VESPID_GATEWAY, VESPID_ORG and VESPID_TOKEN stand in for the options.");

  auto lr = std::make_shared<Remote>();
  auto limit = std::make_shared<int>(50);
  auto* list = group->add_subcommand("list", "List the org's sessions, newest activity first");
  add_remote_options(list, *lr, false);
  list->add_option("--limit", *limit, "At most this many")
      ->capture_default_str()
      ->check(CLI::Range(1, 200));
  on_run(list, reg, [&ctx = reg.ctx, lr, limit] {
    json r = rest_call(*lr, "GET", "/sessions?limit=" + std::to_string(*limit));
    if (ctx.json()) return print_json(r);
    print_sessions(r.value("sessions", json::array()));
  });

  auto cr = std::make_shared<Remote>();
  auto co = std::make_shared<CreateOptions>();
  auto* create = group->add_subcommand("create", "Create a session and print its id");
  add_remote_options(create, *cr, false);
  create->add_option("--title", co->title, "A title to recognise it by");
  create->add_option("--engine", co->engine, "vespid.loop.v1 (LLM) or vespid.echo.v1 (offline)")
      ->capture_default_str();
  create->add_option("--model", co->model, "The model the node host asks its LLM provider for");
  create->add_option("--instructions", co->instructions, "The system prompt");
  create->add_option("--tag", co->tag, "Pin only to node hosts with this stored tag");
  create->add_option("--group", co->group, "Pin only to node hosts tagged group:<name>");
  on_run(create, reg, [&ctx = reg.ctx, cr, co] {
    json body = {{"engine", co->engine}};
    if (!co->title.empty()) body["title"] = co->title;
    if (!co->model.empty()) body["model"] = co->model;
    if (!co->instructions.empty()) body["instructions"] = co->instructions;
    json selector = json::object();
    if (!co->tag.empty()) selector["tag"] = co->tag;
    if (!co->group.empty()) selector["group"] = co->group;
    if (!selector.empty()) body["selector"] = selector;
    json r = rest_call(*cr, "POST", "/sessions", body);
    if (ctx.json()) return print_json(r);
    std::cout << text(r["session"], "id") << std::endl;
  });

  auto sr = std::make_shared<Remote>();
  auto so = std::make_shared<SendOptions>();
  auto* send = group->add_subcommand(
      "send", "Send a message and stream the answer; exit 0 on agent_final, 1 on error");
  add_remote_options(send, *sr, true);
  send->add_option("--session", so->session, "The session id")->required();
  send->add_option("--message", so->message, "What to say")->required();
  send->add_option("--idempotency-key", so->idempotency_key,
                   "Sending again with the same key does not run the turn twice");
  send->add_option("--timeout", so->timeout_s, "Seconds to wait for the answer")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  on_run(send, reg, [&ctx = reg.ctx, sr, so] { send_and_stream(ctx, *sr, *so); });

  auto er = std::make_shared<Remote>();
  auto eid = std::make_shared<std::string>();
  auto after = std::make_shared<long long>(0);
  auto* events =
      group->add_subcommand("events", "Print a session's stored events (its audit trail)");
  add_remote_options(events, *er, false);
  events->add_option("session", *eid, "The session id")->required();
  events->add_option("--after", *after, "Only events with a larger seq")->capture_default_str();
  on_run(events, reg, [&ctx = reg.ctx, er, eid, after] {
    json all = json::array();
    long long cursor = *after;
    for (;;) {
      json page = rest_call(
          *er, "GET", "/sessions/" + *eid + "/events?limit=200&afterSeq=" + std::to_string(cursor));
      for (const auto& ev : page.value("events", json::array())) all.push_back(ev);
      if (!page.contains("nextCursor") || page["nextCursor"].is_null()) break;
      cursor = page["nextCursor"].get<long long>();
    }
    if (ctx.json()) return print_json({{"events", all}});
    for (const auto& ev : all) print_event(ev);
  });

  auto rr = std::make_shared<Remote>();
  auto rid = std::make_shared<std::string>();
  auto* reset = group->add_subcommand(
      "reset", "Unpin the session from its node host; the next send picks one again");
  add_remote_options(reset, *rr, false);
  reset->add_option("session", *rid, "The session id")->required();
  on_run(reset, reg, [&ctx = reg.ctx, rr, rid] {
    json r = rest_call(*rr, "POST", "/sessions/" + *rid + "/reset", json::object());
    if (ctx.json()) return print_json(r);
    std::cout << "session " << *rid << " unpinned" << std::endl;
  });
}

}  // namespace vespid::cli
