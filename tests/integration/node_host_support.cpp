#include "node_host_support.hpp"

#include <fstream>
#include <thread>

#include "operator_client.hpp"
#include "process.hpp"

namespace vespid::test {

using nlohmann::json;

::testing::AssertionResult make_test_ca(const std::string& d) {
  std::vector<std::vector<std::string>> steps = {
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", d + "/ca.key", "-out", d + "/ca.pem", "-days", "2", "-subj",
       "/CN=Vespid Test CA"},
      {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", d + "/gw.key", "-out", d + "/gw.csr", "-subj", "/CN=localhost"},
      {"openssl", "x509", "-req", "-in", d + "/gw.csr", "-CA", d + "/ca.pem", "-CAkey",
       d + "/ca.key", "-CAcreateserial", "-out", d + "/gw.pem", "-days", "2", "-extfile",
       d + "/ext.cnf"}};
  std::ofstream(d + "/ext.cnf") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  for (const auto& argv : steps) {
    CommandResult r = run_command(argv);
    if (r.exit_code != 0) return ::testing::AssertionFailure() << argv[1] << ": " << r.err;
  }
  return ::testing::AssertionSuccess();
}

void NodeHostGateway::SetUp() {
  api_port_ = pick_free_port();
  ws_port_ = pick_free_port();
}

void NodeHostGateway::TearDown() {
  if (gw_.running()) {
    EXPECT_EQ(gw_.terminate(), 0) << gw_.log_text();
  }
}

json NodeHostGateway::config() {
  json ws_cfg = {
      {"port", ws_port_},
      {"routes",
       json::array({{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}}})}};
  ws_cfg.update(ws_config_extra_);
  json instances = json::array(
      {{{"name", "storage"}, {"plugin", "sqlite"}},
       {{"name", "local"}, {"plugin", "unix"}},
       {{"name", "api"},
        {"plugin", "ws"},
        {"config",
         {{"port", api_port_},
          {"routes", json::array({{{"prefix", "/v1/"}, {"dialect", "rest.v1"}},
                                  {{"prefix", "/internal/v1/"}, {"dialect", "rest.v1"}}})}}}},
       {{"name", "ws"}, {"plugin", "ws"}, {"config", ws_cfg}}});
  for (const auto& i : extra_instances_) instances.push_back(i);
  json cfg = {{"plugins", {{"instances", instances}}}, {"dispatch", {{"results_ttl_ms", 600000}}}};
  cfg.merge_patch(config_patch_);
  return cfg;
}

void NodeHostGateway::start_gateway(const EnvOverrides& env) {
  env_ = env;
  std::ofstream(dir_.file("cfg.json")) << config().dump(2);
  gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")}, env_);
  ASSERT_TRUE(gw_.wait_ready());
}

void NodeHostGateway::restart_gateway() {
  ASSERT_EQ(gw_.terminate(), 0) << gw_.log_text();
  gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")}, env_);
  ASSERT_TRUE(gw_.wait_ready());
}

void NodeHostGateway::crash_and_restart_gateway() {
  gw_.kill9();
  gw_.start(dir_.file("state"), {"--config", dir_.file("cfg.json")}, env_);
  ASSERT_TRUE(gw_.wait_ready());
}

void NodeHostGateway::bootstrap_identity() {
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  org_id_ = admin.call("orgs.create", {{"name", "acme"}})["org"]["id"];
  other_org_id_ = admin.call("orgs.create", {{"name", "globex"}})["org"]["id"];
  admin.call("users.create", {{"name", "alice"}, {"org", "acme"}, {"role", "admin"}});
  admin.call("users.create", {{"name", "bob"}, {"org", "acme"}, {"role", "member"}});
  admin.call("users.create", {{"name", "carol"}, {"org", "globex"}, {"role", "owner"}});
  admin_token_ = admin.call("tokens.create", {{"user", "alice"}})["token"];
  member_token_ = admin.call("tokens.create", {{"user", "bob"}})["token"];
  outsider_token_ = admin.call("tokens.create", {{"user", "carol"}})["token"];
}

WebTarget NodeHostGateway::api() const {
  WebTarget t;
  t.port = api_port_;
  return t;
}

WebTarget NodeHostGateway::ws() const {
  WebTarget t;
  t.port = ws_port_;
  return t;
}

HttpReply NodeHostGateway::rest(const std::string& method, const std::string& path,
                                const std::string& bearer, const json& body) {
  Headers h;
  if (!bearer.empty()) h["Authorization"] = "Bearer " + bearer;
  return http_request(api(), method, path, h, body.is_null() ? "" : body.dump());
}

HttpReply NodeHostGateway::internal(const std::string& method, const std::string& path,
                                    const json& body, const std::string& token) {
  Headers h;
  if (!token.empty()) h["x-gateway-token"] = token;
  return http_request(api(), method, path, h, body.is_null() ? "" : body.dump());
}

std::string NodeHostGateway::pairing_token(const std::string& bearer) {
  HttpReply r = rest("POST", "/v1/orgs/" + org_id_ + "/agents/pairing-tokens", bearer);
  EXPECT_EQ(r.status, 201) << r.raw_body << r.error;
  return r.body.value("token", "");
}

PairedAgent NodeHostGateway::pair(const std::string& name, const json& tags) {
  std::string pt = pairing_token(admin_token_);
  HttpReply r =
      rest("POST", "/v1/agents/pair", "",
           {{"pairingToken", pt}, {"name", name}, {"agentVersion", "0.9.0"}, {"tags", tags}});
  EXPECT_EQ(r.status, 201) << r.raw_body;
  return {r.body.value("agentId", ""), r.body.value("agentToken", ""),
          r.body.value("organizationId", ""), r.body.value("gatewayWsUrl", "")};
}

std::unique_ptr<WsClient> NodeHostGateway::connect_agent(const PairedAgent& a,
                                                         const json& capabilities) {
  auto c = std::make_unique<WsClient>(ws());
  json refusal;
  int status = c->connect("/ws", {{"Authorization", "Bearer " + a.token}}, &refusal);
  EXPECT_EQ(status, 101) << refusal.dump();
  json hello = {{"type", "hello"}, {"agentVersion", "0.9.0"}, {"name", "test-host"}};
  if (!capabilities.empty()) hello["capabilities"] = capabilities;
  c->send(hello);
  // A ping round trip proves the hello was handled (frames of a connection are in order).
  c->send({{"type", "ping"}, {"ts", 42}});
  auto pong = c->read_type("pong");
  EXPECT_TRUE(pong.has_value());
  return c;
}

BridgeClient paired_bridge_node(cli::OperatorClient& admin, int bridge_port,
                                const std::string& node_id, const json& extra) {
  auto c = BridgeClient::connect("127.0.0.1", bridge_port);
  json fields = {{"displayName", node_id}};
  fields.update(extra);
  c.pair_request(node_id, fields);
  std::string request_id;
  for (int i = 0; i < 100 && request_id.empty(); ++i) {
    const json pending = admin.call("nodes.pending");  // named: ranging a temporary dangles
    for (const auto& p : pending["pending"])
      if (p["nodeId"] == node_id) request_id = p["requestId"];
    if (request_id.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(request_id.empty()) << "no pending pairing for " << node_id;
  admin.call("nodes.approve", {{"requestId", request_id}, {"org", "acme"}});
  EXPECT_TRUE(c.read_type("hello-ok", std::chrono::seconds(5)));
  // As the reference gateway does, the org's voice wake triggers follow hello-ok.
  EXPECT_TRUE(
      c.read_until([](const json& f) { return f.value("event", "") == "voicewake.changed"; },
                   std::chrono::seconds(5)));
  c.clear_kept();  // pair-ok, read past on the way to hello-ok
  return c;
}

json NodeHostGateway::dispatch_body(const std::string& run, int attempt, const json& extra) {
  json b = {{"organizationId", org_id_},
            {"requestedByUserId", test_uuid("user-1")},
            {"runId", test_uuid(run)},
            {"workflowId", test_uuid("wf-1")},
            {"nodeId", "node-a"},
            {"nodeType", "agent.execute"},
            {"attemptCount", attempt},
            {"kind", "agent.execute"},
            {"payload", {{"message", "hello"}}}};
  b.update(extra);
  return b;
}

bool NodeHostGateway::wait_agent_status(const std::string& agent_id, const std::string& status) {
  for (int i = 0; i < 100; ++i) {
    HttpReply r = rest("GET", "/v1/orgs/" + org_id_ + "/agents", admin_token_);
    for (const auto& a : r.body.value("agents", json::array())) {
      if (a.value("id", "") == agent_id && a.value("status", "") == status) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace vespid::test
