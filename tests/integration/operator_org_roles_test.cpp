// The web client's Devices and Health pages, from the server side (issue 15): node methods open
// to org roles and scoped to the caller's orgs, gateway administrators deciding first-time
// pairings and reading the log tail, and the live events of operator.v1 (node.pair.*,
// node.presence, node.updated, log) reaching exactly the people they are for. Against the real
// gateway, the real CLI, a real node host (vespid.node.v1) and a real bridge.v1 pairing.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "build_paths.hpp"
#include "node_host_support.hpp"
#include "process.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// An operator.v1 connection over /ws/operator that keeps the events it reads on the way to an
// answer, so a test can ask for them afterwards in any order.
class Operator {
 public:
  Operator(WebTarget target, const std::string& token) : ws_(target) {
    json refusal;
    status_ = ws_.connect("/ws/operator", {{"Authorization", "Bearer " + token}}, &refusal);
    EXPECT_EQ(status_, 101) << refusal.dump();
  }

  // The whole res frame of `method`.
  json call(const std::string& method, const json& params = json::object()) {
    const int id = ++next_id_;
    ws_.send({{"type", "req"}, {"id", id}, {"method", method}, {"params", params}});
    for (int i = 0; i < 200; ++i) {
      auto m = ws_.read(5s);
      if (!m) break;
      if (m->value("type", "") == "event") {
        events_.push_back(*m);
        continue;
      }
      if (m->value("type", "") == "res" && (*m)["id"] == id) return *m;
    }
    ADD_FAILURE() << "no answer to " << method;
    return json::object();
  }
  json payload(const std::string& method, const json& params = json::object()) {
    json r = call(method, params);
    EXPECT_TRUE(r.value("ok", false)) << method << ": " << r.dump();
    return r.value("payload", json::object());
  }
  std::string error_code(const std::string& method, const json& params = json::object()) {
    json r = call(method, params);
    EXPECT_FALSE(r.value("ok", true)) << method << " should have failed: " << r.dump();
    return r.contains("error") ? r["error"].value("code", "") : "";
  }

  // The first event kept or arriving within `wait` that `match` accepts (it is consumed).
  std::optional<json> event(const std::function<bool(const json&)>& match,
                            std::chrono::milliseconds wait = 5s) {
    auto take = [&]() -> std::optional<json> {
      for (auto it = events_.begin(); it != events_.end(); ++it) {
        if (match(*it)) {
          json e = *it;
          events_.erase(it);
          return e;
        }
      }
      return std::nullopt;
    };
    if (auto e = take()) return e;
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      auto m = ws_.read(std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now() + 1ms));
      if (!m) break;
      if (m->value("type", "") != "event") continue;
      events_.push_back(*m);
      if (auto e = take()) return e;
    }
    return std::nullopt;
  }
  std::optional<json> event_named(const std::string& name, const std::string& node_id = "",
                                  std::chrono::milliseconds wait = 5s) {
    return event(
        [&](const json& e) {
          if (e.value("event", "") != name) return false;
          if (node_id.empty()) return true;
          const json& p = e["payload"];
          return p.value("nodeId", "") == node_id ||
                 (p.contains("node") && p["node"].value("nodeId", "") == node_id);
        },
        wait);
  }
  // Every event not yet consumed plus what arrives within `wait`; all of them consumed.
  std::vector<json> drain(std::chrono::milliseconds wait = 700ms) {
    while (auto m = ws_.read(wait)) {
      if (m->value("type", "") == "event") events_.push_back(*m);
    }
    std::vector<json> out(events_.begin(), events_.end());
    events_.clear();
    return out;
  }

 private:
  WsClient ws_;
  int status_ = 0;
  int next_id_ = 0;
  std::deque<json> events_;
};

class OrgRoles : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    bridge_port_ = pick_free_port();
    ws_config_extra_ = {
        {"routes",
         json::array({{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}},
                      {{"path", "/ws/operator"}, {"dialect", "operator.v1"}, {"websocket", true}},
                      {{"prefix", "/v1/"}, {"dialect", "rest.v1"}}})}};
    extra_instances_ = json::array(
        {{{"name", "bridge"}, {"plugin", "bridge"}, {"config", {{"port", bridge_port_}}}}});
    start_gateway();
    bootstrap_identity();  // acme: alice admin, bob member; globex: carol owner
    auto admin = cli::OperatorClient::connect(gw_.socket_path());
    admin.call("users.create", {{"name", "dave"}, {"org", "acme"}, {"role", "owner"}});
    owner_token_ = admin.call("tokens.create", {{"user", "dave"}})["token"];
  }

  CommandResult vespid(const std::vector<std::string>& args) {
    std::vector<std::string> argv{cli_bin(), "--state-dir", gw_.state_dir()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }

  // A node host of acme, connected over /ws.
  std::unique_ptr<WsClient> node_host(const std::string& name, std::string* id) {
    PairedAgent a = pair(name);
    *id = a.id;
    return connect_agent(a);
  }

  int bridge_port_ = 0;
  std::string owner_token_;
};

// A node's entry in nodes.list, by id.
json entry(const json& list, const std::string& node_id) {
  for (const auto& n : list["nodes"])
    if (n["nodeId"] == node_id) return n;
  return nullptr;
}

TEST_F(OrgRoles, OwnersManageTheirOrgsNodesMembersLookOutsidersSeeNothing) {
  std::string host_id;
  auto host = node_host("build-box", &host_id);
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  BridgeClient phone = paired_bridge_node(admin, bridge_port_, "phone-1");

  Operator dave(ws(), owner_token_);      // acme owner
  Operator bob(ws(), member_token_);      // acme member
  Operator carol(ws(), outsider_token_);  // globex owner

  // Listing names the org; a member sees its nodes, online, with why and where.
  EXPECT_EQ(dave.error_code("nodes.list"), "INVALID_REQUEST");
  json listed = bob.payload("nodes.list", {{"org", "acme"}});
  ASSERT_EQ(listed["nodes"].size(), 2u) << listed.dump();
  json p = entry(listed, "phone-1");
  ASSERT_TRUE(p.is_object()) << listed.dump();
  EXPECT_EQ(p["status"], "online");
  EXPECT_EQ(p["statusReason"].get<std::string>().rfind("connected over bridge from 127.0.0.1:", 0),
            0u)
      << p.dump();
  EXPECT_FALSE(p.value("instance", "").empty()) << p.dump();
  EXPECT_TRUE(p.contains("connectedAt")) << p.dump();
  json h = entry(listed, host_id);
  EXPECT_EQ(h["statusReason"].get<std::string>().rfind("connected over /ws from ", 0), 0u)
      << h.dump();

  // Another org's user: a member of nothing here, the node does not exist for them.
  EXPECT_EQ(carol.error_code("nodes.list", {{"org", "acme"}}), "FORBIDDEN");
  EXPECT_EQ(carol.error_code("nodes.describe", {{"node", "phone-1"}}), "NOT_FOUND");
  EXPECT_EQ(carol.error_code("nodes.rename", {{"node", "phone-1"}, {"name", "mine"}}), "NOT_FOUND");
  EXPECT_EQ(carol.error_code("nodes.revoke", {{"node", host_id}}), "NOT_FOUND");
  EXPECT_EQ(carol.payload("nodes.list", {{"org", "globex"}})["nodes"].size(), 0u);

  // A member looks but does not touch.
  EXPECT_EQ(bob.payload("nodes.describe", {{"node", "phone-1"}})["node"]["nodeId"], "phone-1");
  json refused = bob.call("nodes.rename", {{"node", "phone-1"}, {"name", "bob's"}});
  EXPECT_EQ(refused["error"]["code"], "FORBIDDEN") << refused.dump();
  EXPECT_NE(refused["error"]["message"].get<std::string>().find("owner or admin"),
            std::string::npos)
      << refused.dump();
  EXPECT_EQ(bob.error_code("nodes.tag", {{"node", host_id}, {"tags", {"x"}}}), "FORBIDDEN");
  EXPECT_EQ(bob.error_code("nodes.revoke", {{"node", "phone-1"}}), "FORBIDDEN");

  // The owner renames and tags; everyone in acme hears of it.
  json renamed = dave.payload("nodes.rename", {{"node", "phone-1"}, {"name", "kitchen phone"}});
  EXPECT_EQ(renamed["node"]["displayName"], "kitchen phone");
  auto updated = bob.event_named("node.updated", "phone-1");
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->at("payload")["node"]["displayName"], "kitchen phone");
  json tagged = dave.payload("nodes.tag", {{"node", host_id}, {"tags", {"gpu"}}});
  EXPECT_EQ(tagged["node"]["tags"], json::array({"gpu"}));
  EXPECT_TRUE(bob.event_named("node.updated", host_id));

  // The bridge node drops its connection: offline, with the reason.
  phone.close();
  auto offline = bob.event([](const json& e) {
    return e.value("event", "") == "node.presence" && e["payload"]["nodeId"] == "phone-1" &&
           e["payload"]["status"] == "offline";
  });
  ASSERT_TRUE(offline);
  EXPECT_EQ(
      offline->at("payload")["statusReason"].get<std::string>().rfind("connection closed: ", 0), 0u)
      << offline->dump();
  json described = dave.payload("nodes.describe", {{"node", "phone-1"}})["node"];
  EXPECT_EQ(described["status"], "offline");
  EXPECT_EQ(described["statusReason"].get<std::string>().rfind("connection closed: ", 0), 0u)
      << described.dump();
  EXPECT_FALSE(described.contains("instance")) << described.dump();

  // The owner revokes both; members see them go.
  json revoked = dave.payload("nodes.revoke", {{"node", host_id}});
  EXPECT_EQ(revoked["closedConnections"], 1);
  auto gone = bob.event([&](const json& e) {
    return e.value("event", "") == "node.presence" && e["payload"]["nodeId"] == host_id &&
           e["payload"]["status"] == "revoked";
  });
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->at("payload")["statusReason"].get<std::string>().rfind("revoked ", 0), 0u);
  dave.payload("nodes.revoke", {{"node", "phone-1"}});
  EXPECT_EQ(dave.payload("nodes.describe", {{"node", "phone-1"}})["node"]["status"], "revoked");

  // Not one of acme's events reached globex's owner.
  for (const auto& e : carol.drain()) ADD_FAILURE() << "globex's owner heard " << e.dump();
}

TEST_F(OrgRoles, GatewayAdministratorsDecideFirstTimePairingsOthersDoNot) {
  // The flag, through the CLI.
  CommandResult set = vespid({"user", "gateway-admin", "dave"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_NE(set.out.find("is now a gateway administrator"), std::string::npos) << set.out;
  CommandResult users = vespid({"user", "list"});
  ASSERT_EQ(users.exit_code, 0) << users.err;
  EXPECT_NE(users.out.find("GATEWAY ADMIN"), std::string::npos) << users.out;
  CommandResult as_json = vespid({"--json", "user", "list"});
  json all = json::parse(as_json.out);
  for (const auto& u : all["users"]) EXPECT_EQ(u["gatewayAdmin"], u["name"] == "dave") << u.dump();

  Operator dave(ws(), owner_token_);
  Operator alice(ws(), admin_token_);  // acme admin, not a gateway administrator
  Operator carol(ws(), outsider_token_);
  EXPECT_EQ(dave.payload("whoami")["gatewayAdmin"], true);
  EXPECT_EQ(alice.payload("whoami")["gatewayAdmin"], false);

  // A real bridge.v1 pairing request.
  BridgeClient tablet = BridgeClient::connect("127.0.0.1", bridge_port_);
  tablet.pair_request("tablet-1", {{"displayName", "Tablet"}, {"commands", {"canvas.show"}}});
  auto requested = dave.event_named("node.pair.requested", "tablet-1");
  ASSERT_TRUE(requested);
  const std::string request_id = requested->at("payload")["requestId"];
  json pending = dave.payload("nodes.pending")["pending"];
  ASSERT_EQ(pending.size(), 1u) << pending.dump();
  EXPECT_EQ(pending[0]["requestId"], request_id);

  // Others: nothing to decide, and no say.
  EXPECT_EQ(alice.payload("nodes.pending")["pending"].size(), 0u);
  EXPECT_EQ(carol.payload("nodes.pending")["pending"].size(), 0u);
  EXPECT_EQ(alice.error_code("nodes.approve", {{"requestId", request_id}, {"org", "acme"}}),
            "FORBIDDEN");
  EXPECT_EQ(carol.error_code("nodes.approve", {{"requestId", request_id}, {"org", "globex"}}),
            "FORBIDDEN");
  EXPECT_EQ(alice.error_code("nodes.reject", {{"requestId", request_id}}), "FORBIDDEN");
  // A gateway administrator approves only into an org they own or administer.
  EXPECT_EQ(dave.error_code("nodes.approve", {{"requestId", request_id}, {"org", "globex"}}),
            "FORBIDDEN");

  json approved = dave.payload("nodes.approve", {{"requestId", request_id}, {"org", "acme"}});
  EXPECT_EQ(approved["node"]["orgId"], org_id_);
  ASSERT_TRUE(tablet.read_type("hello-ok", 5s));
  auto resolved = dave.event_named("node.pair.resolved", "tablet-1");
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->at("payload")["decision"], "approved");
  EXPECT_EQ(resolved->at("payload")["requestId"], request_id);
  EXPECT_EQ(resolved->at("payload")["orgId"], org_id_);
  auto online = dave.event([](const json& e) {
    return e.value("event", "") == "node.presence" && e["payload"]["nodeId"] == "tablet-1" &&
           e["payload"]["status"] == "online";
  });
  ASSERT_TRUE(online);
  EXPECT_FALSE(online->at("payload").value("instance", "").empty());
  // acme's admin hears the node come online in their org, not the pairing itself.
  EXPECT_TRUE(alice.event_named("node.presence", "tablet-1"));

  // Deciding again says what happened.
  json again = dave.call("nodes.approve", {{"requestId", request_id}, {"org", "acme"}});
  EXPECT_EQ(again["error"]["code"], "NOT_FOUND") << again.dump();
  EXPECT_NE(again["error"]["message"].get<std::string>().find("already approved"),
            std::string::npos)
      << again.dump();
  json unknown = dave.call("nodes.reject", {{"requestId", "no-such-request"}});
  EXPECT_EQ(unknown["error"]["code"], "NOT_FOUND");
  EXPECT_NE(unknown["error"]["message"].get<std::string>().find("vespid nodes pending"),
            std::string::npos)
      << unknown.dump();

  // A node that gives up while waiting: the request ends for everyone who saw it.
  {
    BridgeClient quitter = BridgeClient::connect("127.0.0.1", bridge_port_);
    quitter.pair_request("quitter-1");
    ASSERT_TRUE(dave.event_named("node.pair.requested", "quitter-1"));
    quitter.close();
  }
  auto ended = dave.event_named("node.pair.resolved", "quitter-1");
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->at("payload")["decision"], "expired");

  for (const auto& e : carol.drain()) ADD_FAILURE() << "globex's owner heard " << e.dump();
  for (const auto& e : alice.drain()) {
    EXPECT_NE(e.value("event", ""), "node.pair.requested") << e.dump();
    EXPECT_NE(e.value("event", ""), "node.pair.resolved") << e.dump();
  }
}

TEST_F(OrgRoles, HealthIsForGatewayAdministratorsAndTheFlagCanBeTakenAwayLive) {
  ASSERT_EQ(vespid({"user", "gateway-admin", "dave"}).exit_code, 0);
  Operator dave(ws(), owner_token_);
  Operator bob(ws(), member_token_);

  json status = dave.payload("status");
  EXPECT_TRUE(status.contains("uptimeMs")) << status.dump();
  EXPECT_EQ(bob.error_code("status"), "FORBIDDEN");

  // The tail: recent lines, then new ones as `log` events.
  json tail = dave.payload("logs.tail", {{"limit", 50}});
  ASSERT_TRUE(tail["lines"].is_array());
  ASSERT_GT(tail["lines"].size(), 0u);
  EXPECT_LE(tail["lines"].size(), 50u);
  for (const auto& l : tail["lines"]) {
    EXPECT_TRUE(l.contains("ts") && l.contains("level") && l.contains("component") &&
                l.contains("message"))
        << l.dump();
  }
  EXPECT_EQ(bob.error_code("logs.tail"), "FORBIDDEN");

  // Something the gateway logs at info: a node host connects and leaves.
  std::string host_id;
  { auto host = node_host("log-box", &host_id); }
  auto line = dave.event([&](const json& e) {
    return e.value("event", "") == "log" &&
           e["payload"].value("message", "").find(host_id) != std::string::npos;
  });
  ASSERT_TRUE(line) << "no log event naming " << host_id;
  EXPECT_FALSE(line->at("payload").value("component", "").empty());
  // No secret travels in the tail: the node host's token is not in any line.
  for (const auto& e : dave.drain(300ms)) {
    EXPECT_EQ(e.dump().find("vat_"), std::string::npos) << e.dump();
  }

  // The flag goes: the open connection loses status, pending requests and the log at once.
  CommandResult off = vespid({"user", "gateway-admin", "dave", "--off"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_NE(off.out.find("no longer"), std::string::npos) << off.out;
  EXPECT_EQ(dave.error_code("status"), "FORBIDDEN");
  EXPECT_EQ(dave.payload("whoami")["gatewayAdmin"], false);
  EXPECT_EQ(dave.error_code("logs.tail"), "FORBIDDEN");
  dave.drain(300ms);
  std::string second_id;
  { auto host = node_host("log-box-2", &second_id); }
  // Node presence still comes (dave owns acme), log lines no longer do.
  ASSERT_TRUE(dave.event_named("node.presence", second_id));
  for (const auto& e : dave.drain(700ms)) EXPECT_NE(e.value("event", ""), "log") << e.dump();

  // And pairing requests stop reaching them.
  BridgeClient later = BridgeClient::connect("127.0.0.1", bridge_port_);
  later.pair_request("later-1");
  EXPECT_FALSE(dave.event_named("node.pair.requested", "later-1", 1500ms));
  EXPECT_EQ(dave.payload("nodes.pending")["pending"].size(), 0u);
}

}  // namespace
}  // namespace vespid::test
