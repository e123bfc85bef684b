// A gateway with the REST API and the WebSocket listener for node hosts, an org with an admin, a
// member and an outsider, and helpers that speak the REST API and play node hosts over a real
// WebSocket client. Shared by the node-host integration tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bridge_client.hpp"
#include "gateway_process.hpp"
#include "operator_client.hpp"
#include "temp_dir.hpp"
#include "test_ids.hpp"
#include "web_test_client.hpp"

namespace vespid::test {

inline constexpr const char* kServiceToken = "test-service-token-0123456789abcdef";

struct PairedAgent {
  std::string id, token, org_id, ws_url;
};

// Writes <dir>/ca.pem (a CA of the test's own) and <dir>/gw.pem + gw.key (a server certificate it
// signed for localhost and 127.0.0.1), with the openssl CLI.
::testing::AssertionResult make_test_ca(const std::string& dir);

// A bridge node that asked to pair on `bridge_port`, approved into acme by `admin`, read past
// hello-ok (pair-ok and anything before hello-ok dropped), as the reference client is left.
BridgeClient paired_bridge_node(cli::OperatorClient& admin, int bridge_port,
                                const std::string& node_id,
                                const nlohmann::json& extra = nlohmann::json::object());

class NodeHostGateway : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The gateway's config; tests may change it before start_gateway().
  nlohmann::json config();
  void start_gateway(const EnvOverrides& env = {{"VESPID_INTERNAL_TOKEN", kServiceToken}});
  void restart_gateway();
  // Kills the gateway with SIGKILL (no clean stop, nothing flushed) and starts it again.
  void crash_and_restart_gateway();
  void bootstrap_identity();

  WebTarget api() const;
  WebTarget ws() const;
  HttpReply rest(const std::string& method, const std::string& path, const std::string& bearer,
                 const nlohmann::json& body = nullptr);
  HttpReply internal(const std::string& method, const std::string& path,
                     const nlohmann::json& body = nullptr,
                     const std::string& token = kServiceToken);

  std::string pairing_token(const std::string& bearer);
  PairedAgent pair(const std::string& name, const nlohmann::json& tags = nlohmann::json::array());
  // Connects as the agent and says hello; asserts the upgrade succeeded.
  std::unique_ptr<WsClient> connect_agent(
      const PairedAgent& a, const nlohmann::json& capabilities = nlohmann::json::object());
  // A dispatch body with the reference's fields: the run named `run` (runId test_uuid(run), so
  // its requestId is request_id(run, attempt)), user test_uuid("user-1"), workflow
  // test_uuid("wf-1"), workflow node "node-a".
  nlohmann::json dispatch_body(const std::string& run, int attempt = 1,
                               const nlohmann::json& extra = nlohmann::json::object());
  // Waits until GET /v1/orgs/<org>/agents shows the agent with `status`.
  bool wait_agent_status(const std::string& agent_id, const std::string& status);

  TempDir dir_;
  GatewayProcess gw_;
  EnvOverrides env_;
  int api_port_ = 0, ws_port_ = 0;
  nlohmann::json ws_config_extra_ = nlohmann::json::object();
  nlohmann::json extra_instances_ = nlohmann::json::array();  // more plugin instances
  nlohmann::json config_patch_ = nlohmann::json::object();    // merged into the whole config
  std::string org_id_, other_org_id_;
  std::string admin_token_, member_token_, outsider_token_;
};

}  // namespace vespid::test
