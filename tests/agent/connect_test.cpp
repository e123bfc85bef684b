// `vespid-agent connect` / `status` against a local HTTP server answering /v1/agents/pair.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "agent_test_util.hpp"
#include "loopback_http.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

using namespace vespid::test;
using nlohmann::json;

TEST(AgentConnect, PairsAndSavesCredentialsWithMode0600) {
  LoopbackHttpServer server([](const HttpRecord& req) {
    if (req.target != "/v1/agents/pair") return HttpReply{404, "application/json", {"{}"}};
    return HttpReply{201,
                     "application/json",
                     {json{{"agentId", "agent-42"},
                           {"agentToken", "org-7.topsecretvalue"},
                           {"organizationId", "org-7"},
                           {"gatewayWsUrl", "ws://127.0.0.1:3002/ws"}}
                          .dump()}};
  });
  TempDir tmp("agent-connect");
  const std::string config = tmp.file("conf/agent.json");
  const auto r =
      run_command({agent_bin(), "connect", "--pairing-token", "org-7.pairme", "--api", server.url(),
                   "--name", "lab-box", "--tags", "gpu,linux", "--config", config});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("topsecretvalue"), std::string::npos);
  EXPECT_EQ(r.err.find("topsecretvalue"), std::string::npos);

  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  const json body = json::parse(reqs[0].body);
  EXPECT_EQ(body["pairingToken"], "org-7.pairme");
  EXPECT_EQ(body["name"], "lab-box");
  EXPECT_TRUE(body["agentVersion"].is_string());
  EXPECT_EQ(body["tags"], json::array({"gpu", "linux"}));
  EXPECT_EQ(body["capabilities"]["engines"], json::array({"vespid.echo.v1", "vespid.loop.v1"}));

  struct stat st {};
  ASSERT_EQ(::stat(config.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat(tmp.file("conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  const json saved = json::parse(read_file(config));
  EXPECT_EQ(saved["agentId"], "agent-42");
  EXPECT_EQ(saved["agentToken"], "org-7.topsecretvalue");
  EXPECT_EQ(saved["organizationId"], "org-7");
  EXPECT_EQ(saved["gatewayWsUrl"], "ws://127.0.0.1:3002/ws");
  EXPECT_EQ(saved["apiUrl"], server.url());
  EXPECT_EQ(saved["name"], "lab-box");

  // status shows it without the secret; VESPID_AGENT_CONFIG finds the same file.
  const auto s = run_command({agent_bin(), "status", "--json"}, {{"VESPID_AGENT_CONFIG", config}});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const json shown = json::parse(s.out);
  EXPECT_EQ(shown["agentId"], "agent-42");
  EXPECT_EQ(shown["agentToken"], "org-7.****");
  EXPECT_EQ(s.out.find("topsecretvalue"), std::string::npos);
}

TEST(AgentConnect, GatewayOverrideIsSaved) {
  LoopbackHttpServer server([](const HttpRecord&) {
    return HttpReply{201,
                     "application/json",
                     {json{{"agentId", "a"},
                           {"agentToken", "o.s"},
                           {"organizationId", "o"},
                           {"gatewayWsUrl", "ws://internal:3002/ws"}}
                          .dump()}};
  });
  TempDir tmp("agent-connect");
  const std::string config = tmp.file("agent.json");
  const auto r = run_command({agent_bin(), "--config", config, "connect", "--pairing-token", "t",
                              "--api", server.url(), "--gateway", "wss://gw.example:443/ws"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(read_file(config))["gatewayWsUrl"], "wss://gw.example:443/ws");
}

TEST(AgentConnect, SeveralGatewayUrlsAreSavedInOrder) {
  LoopbackHttpServer server([](const HttpRecord&) {
    return HttpReply{201,
                     "application/json",
                     {json{{"agentId", "a"},
                           {"agentToken", "o.s"},
                           {"organizationId", "o"},
                           {"gatewayWsUrl", "ws://internal:3002/ws"}}
                          .dump()}};
  });
  TempDir tmp("agent-connect");
  const std::string config = tmp.file("agent.json");
  const auto r =
      run_command({agent_bin(), "--config", config, "connect", "--pairing-token", "t", "--api",
                   server.url(), "--gateway", "wss://gw-a.example/ws,wss://gw-b.example/ws",
                   "--gateway", "wss://gw-c.example/ws"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json saved = json::parse(read_file(config));
  EXPECT_EQ(saved["gatewayWsUrl"], "wss://gw-a.example/ws");
  EXPECT_EQ(saved["gatewayWsUrls"], json::array({"wss://gw-a.example/ws", "wss://gw-b.example/ws",
                                                 "wss://gw-c.example/ws"}));
  const auto status = run_command({agent_bin(), "--config", config, "status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("gw-c.example"), std::string::npos) << status.out;
  // A URL that is not ws:// or wss:// is a usage error before anything is paired.
  const auto bad = run_command({agent_bin(), "--config", tmp.file("other.json"), "connect",
                                "--pairing-token", "t", "--api", server.url(), "--gateway",
                                "wss://gw-a.example/ws,http://gw-b.example/ws"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("http://gw-b.example/ws"), std::string::npos) << bad.err;
}

TEST(AgentConnect, RefusedPairingIsClearAndSavesNothing) {
  LoopbackHttpServer server([](const HttpRecord&) {
    return HttpReply{
        401,
        "application/json",
        {R"({"code":"PAIRING_TOKEN_INVALID","message":"Pairing token is invalid or expired"})"}};
  });
  TempDir tmp("agent-connect");
  const std::string config = tmp.file("agent.json");
  const auto r = run_command({agent_bin(), "connect", "--pairing-token", "org.bad", "--api",
                              server.url(), "--config", config});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("PAIRING_TOKEN_INVALID"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Pairing token is invalid or expired"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("401"), std::string::npos) << r.err;
  struct stat st {};
  EXPECT_NE(::stat(config.c_str(), &st), 0) << "nothing may be saved after a refusal";
}

TEST(AgentConnect, UnreachableApiAndMalformedCredentials) {
  TempDir tmp("agent-connect");
  auto r = run_command({agent_bin(), "connect", "--pairing-token", "t", "--api",
                        "http://127.0.0.1:1", "--config", tmp.file("a.json")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("cannot reach the API"), std::string::npos) << r.err;

  const std::string bad = tmp.file("bad.json");
  {
    std::FILE* f = std::fopen(bad.c_str(), "w");
    std::fputs("{\"agentId\": \"a\"", f);
    std::fclose(f);
  }
  r = run_command({agent_bin(), "start", "--config", bad});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
}
