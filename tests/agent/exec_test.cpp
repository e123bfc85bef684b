// `vespid-agent exec` through the real binary: the echo engine, the loop engine against a local
// OpenAI-compatible streaming server, unknown engines, a missing key.
#include <gtest/gtest.h>

#include <fstream>

#include "agent_test_util.hpp"
#include "loopback_http.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

using namespace vespid::test;
using nlohmann::json;

namespace {

CommandResult exec_payload(const TempDir& tmp, const json& payload, const EnvOverrides& env = {},
                           const std::string& kind = "agent.run") {
  const std::string file = tmp.file("payload.json");
  std::ofstream(file) << payload.dump();
  return run_command(
      {agent_bin(), "exec", "--payload", file, "--kind", kind, "--echo-delay-ms", "0"}, env);
}

void expect_gap_free(const std::vector<json>& events) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["seq"], i + 1) << events[i].dump();
    EXPECT_TRUE(events[i]["ts"].is_number());
    EXPECT_TRUE(events[i]["level"] == "info" || events[i]["level"] == "warn" ||
                events[i]["level"] == "error");
  }
}

std::vector<std::string> kinds(const std::vector<json>& events) {
  std::vector<std::string> k;
  for (const auto& e : events) k.push_back(e["kind"]);
  return k;
}

std::string sse(const json& chunk) {
  return "data: " + chunk.dump() + "\n\n";
}

json content_chunk(const std::string& text) {
  return {{"choices", json::array({{{"index", 0}, {"delta", {{"content", text}}}}})}};
}

}  // namespace

TEST(AgentExec, EchoStreamsWordByWordWithGapFreeSeq) {
  TempDir tmp("agent-exec");
  const auto r = exec_payload(tmp, {{"sessionId", "s1"},
                                    {"engine", "vespid.echo.v1"},
                                    {"model", "none"},
                                    {"instructions", ""},
                                    {"message", "hello node  host"},
                                    {"history", json::array()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto frames = json_lines(r.out);
  ASSERT_GE(frames.size(), 3u);
  EXPECT_EQ(frames.front()["type"], "execute_received");
  const auto events = events_of(frames);
  expect_gap_free(events);
  EXPECT_EQ(kinds(events), (std::vector<std::string>{
                               "agent.start", "agent.assistant_delta", "agent.assistant_delta",
                               "agent.assistant_delta", "agent.assistant_message", "agent.final"}));
  EXPECT_EQ(events[0]["payload"], (json{{"engine", "vespid.echo.v1"}, {"model", "none"}}));
  EXPECT_EQ(events[1]["payload"]["text"], "hello");
  EXPECT_EQ(events[2]["payload"]["text"], " node");
  EXPECT_EQ(events[3]["payload"]["text"], "  host");
  EXPECT_EQ(events[4]["payload"]["text"], "hello node  host");
  EXPECT_EQ(events[5]["payload"]["text"], "hello node  host");
  const json& result = frames.back();
  EXPECT_EQ(result["type"], "execute_result");
  EXPECT_EQ(result["status"], "succeeded");
  EXPECT_EQ(result["output"], (json{{"text", "hello node  host"}}));
}

TEST(AgentExec, AgentExecuteAcceptsPromptAndTheEchoConnectorWorks) {
  TempDir tmp("agent-exec");
  auto r =
      exec_payload(tmp, {{"engine", "vespid.echo.v1"}, {"prompt", "a b"}}, {}, "agent.execute");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_lines(r.out).back()["output"]["text"], "a b");

  r = exec_payload(tmp, {{"connectorId", "echo"}, {"actionId", "any"}, {"input", {{"x", 1}}}}, {},
                   "connector.action");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_lines(r.out).back()["output"],
            (json{{"connectorId", "echo"}, {"actionId", "any"}, {"input", {{"x", 1}}}}));

  r = exec_payload(tmp, {{"connectorId", "github"}, {"actionId", "x"}}, {}, "connector.action");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(
      json_lines(r.out).back()["error"].get<std::string>().rfind("CONNECTOR_NOT_AVAILABLE", 0), 0u);
}

TEST(AgentExec, UnknownEnginesAreNotAvailable) {
  TempDir tmp("agent-exec");
  for (const std::string engine : {"codex.sdk.v1", "something.else"}) {
    const auto r = exec_payload(tmp, {{"engine", engine}, {"message", "hi"}});
    EXPECT_EQ(r.exit_code, 1);
    const auto frames = json_lines(r.out);
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames.back()["status"], "failed");
    EXPECT_EQ(frames.back()["error"],
              "ENGINE_NOT_AVAILABLE: engine " + engine + " is not available on this node host");
    for (const auto& e : events_of(frames)) EXPECT_NE(e["kind"], "agent.assistant_delta");
  }
}

TEST(AgentExec, LoopWithoutApiKeyFailsClearly) {
  TempDir tmp("agent-exec");
  const auto r =
      exec_payload(tmp, {{"engine", "vespid.loop.v1"}, {"model", "m"}, {"message", "hi"}},
                   {{"OPENAI_API_KEY", ""}, {"OPENAI_BASE_URL", "http://127.0.0.1:9"}});
  EXPECT_EQ(r.exit_code, 1);
  const auto result = json_lines(r.out).back();
  EXPECT_EQ(result["status"], "failed");
  EXPECT_NE(result["error"].get<std::string>().find("OPENAI_API_KEY"), std::string::npos);
}

TEST(AgentExec, LoopStreamsFromAnOpenAiCompatibleServerWithToolsetContext) {
  std::string problems;  // what the server found wrong with the request
  LoopbackHttpServer server([&](const HttpRecord& req) {
    auto fail = [&](const std::string& why) {
      problems += why + "; ";
      return HttpReply{400, "application/json", {R"({"error":{"message":"bad request"}})"}};
    };
    if (req.method != "POST" || req.target != "/v1/chat/completions") return fail("route");
    if (req.headers.count("authorization") == 0 ||
        req.headers.at("authorization") != "Bearer sk-test-123")
      return fail("authorization");
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return fail("body not JSON");
    if (body.value("model", "") != "gpt-test") return fail("model");
    if (body.value("stream", false) != true) return fail("stream");
    const json& m = body["messages"];
    if (!m.is_array() || m.size() != 4) return fail("message count " + m.dump());
    if (m[0]["role"] != "system") return fail("system role");
    const std::string system = m[0]["content"];
    if (system.find("Be terse.") != 0) return fail("instructions first");
    if (system.find("### s0\n") == std::string::npos) return fail("toolset context");
    if (system.find("### off") != std::string::npos) return fail("disabled skill present");
    if (system.find("### s4") != std::string::npos) return fail("skill past the total cap");
    if (m[1] != json{{"role", "user"}, {"content", "earlier"}}) return fail("history user");
    if (m[2] != json{{"role", "assistant"}, {"content", "reply"}}) return fail("history asst");
    if (m[3] != json{{"role", "user"}, {"content", "say hello"}}) return fail("user message");
    // Split across event boundaries on purpose.
    const std::string stream =
        sse({{"choices", json::array({{{"index", 0}, {"delta", {{"role", "assistant"}}}}})}}) +
        sse(content_chunk("Hel")) + sse(content_chunk("lo")) + ": keep-alive\n\n" +
        sse(content_chunk(" world")) + "data: [DONE]\n\n";
    HttpReply reply;
    reply.content_type = "text/event-stream";
    reply.chunked = true;
    reply.gap = std::chrono::milliseconds(5);
    for (std::size_t i = 0; i < stream.size(); i += 37)
      reply.chunks.push_back(stream.substr(i, 37));
    return reply;
  });

  json skills = json::array();
  skills.push_back({{"name", "off"}, {"enabled", false}, {"content", "never"}});
  for (int i = 0; i < 6; ++i) {
    skills.push_back({{"name", "s" + std::to_string(i)},
                      {"enabled", true},
                      {"content", std::string(25000, static_cast<char>('a' + i))}});
  }
  TempDir tmp("agent-exec");
  const auto r =
      exec_payload(tmp,
                   {{"sessionId", "s1"},
                    {"engine", "vespid.loop.v1"},
                    {"model", "gpt-test"},
                    {"instructions", "Be terse."},
                    {"message", "say hello"},
                    {"history", json::array({{{"role", "user"}, {"content", "earlier"}},
                                             {{"role", "assistant"}, {"content", "reply"}}})},
                    {"toolset", {{"name", "big"}, {"skills", skills}}}},
                   {{"OPENAI_API_KEY", "sk-test-123"}, {"OPENAI_BASE_URL", server.url() + "/v1/"}});
  EXPECT_EQ(problems, "");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto frames = json_lines(r.out);
  const auto events = events_of(frames);
  expect_gap_free(events);
  EXPECT_EQ(kinds(events), (std::vector<std::string>{
                               "agent.start", "toolset_skills_applied", "agent.assistant_delta",
                               "agent.assistant_delta", "agent.assistant_delta",
                               "agent.assistant_message", "agent.final"}));
  // Each bundle is cut to 20000; blocks of 20008 chars: three fit, the fourth is cut to fill
  // 80000 and the walk stops.
  const json& applied = events[1]["payload"];
  EXPECT_EQ(applied["applied"], json::array({"s0", "s1", "s2", "s3"}));
  EXPECT_EQ(applied["truncated"], json::array({"s0", "s1", "s2", "s3"}));
  EXPECT_EQ(applied["skipped"], json::array({"off", "s4", "s5"}));
  EXPECT_EQ(applied["totalChars"], 80000);
  EXPECT_EQ(events[2]["payload"]["text"], "Hel");
  EXPECT_EQ(events[3]["payload"]["text"], "lo");
  EXPECT_EQ(events[4]["payload"]["text"], " world");
  EXPECT_EQ(events[6]["payload"]["text"], "Hello world");
  EXPECT_EQ(frames.back()["output"]["text"], "Hello world");
  EXPECT_EQ(server.requests().size(), 1u);
}

// The reference's agent.run payload (issue 20 point 1), as both gateways send it for a session
// turn: the node's prompt, the model and the conversation (steps, whose last entry repeats
// runInput's message) reach the model; the reference toolset's agentSkills bundles are read.
json reference_turn_payload(const std::string& engine) {
  const json skill = {
      {"format", "agentskills-v1"},
      {"id", "greet"},
      {"name", "greeting"},
      {"files",
       json::array(
           {{{"path", "SKILL.md"}, {"content", "U2F5IGhpIGZpcnN0Lg=="}, {"encoding", "base64"}}})}};
  return {{"nodeId", "agent"},
          {"node",
           {{"id", "agent"},
            {"type", "agent.run"},
            {"config",
             {{"llm", {{"provider", "openai"}, {"model", "gpt-ref"}}},
              {"execution", {{"mode", "node"}}},
              {"engine", {{"id", engine}}},
              {"prompt", {{"system", "You are kind."}, {"instructions", "Be terse."}}},
              {"tools", {{"allow", json::array()}, {"execution", "node"}}},
              {"limits", {{"timeoutMs", 60000}, {"maxOutputChars", 50000}}},
              {"output", {{"mode", "text"}}}}}}},
          {"runId", "3f2b8c1e-0d4a-4e6b-9c7d-5a1f2e3d4c5b"},
          {"workflowId", "3f2b8c1e-0d4a-4e6b-9c7d-5a1f2e3d4c5b"},
          {"attemptCount", 5},
          {"runInput", {{"message", "say hello"}}},
          {"steps", json::array({{{"role", "user"}, {"content", "earlier"}},
                                 {{"role", "assistant"}, {"content", "reply"}},
                                 {{"type", "agent_selected"}, {"level", "info"}},
                                 {{"role", "user"}, {"content", "say hello"}}})},
          {"toolset",
           {{"id", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"},
            {"name", "kit"},
            {"mcpServers", json::array()},
            {"agentSkills", json::array({skill, {{"format", "other"}}})}}},
          {"env", {{"githubApiBaseUrl", "https://api.github.com"}}},
          {"secrets", json::object()}};
}

TEST(AgentExec, TheReferenceAgentRunPayloadReachesTheModel) {
  std::string problems;
  LoopbackHttpServer server([&](const HttpRecord& req) {
    auto fail = [&](const std::string& why) {
      problems += why + "; ";
      return HttpReply{400, "application/json", {R"({"error":{"message":"bad request"}})"}};
    };
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return fail("body not JSON");
    if (body.value("model", "") != "gpt-ref") return fail("model " + body.value("model", ""));
    const json& m = body["messages"];
    if (!m.is_array() || m.size() != 4) return fail("messages " + m.dump());
    const std::string system = m[0]["content"];
    if (system.rfind("You are kind.\n\nBe terse.", 0) != 0) return fail("system " + system);
    if (system.find("### greeting\nSay hi first.") == std::string::npos)
      return fail("agentSkills bundle " + system);
    if (m[1] != json{{"role", "user"}, {"content", "earlier"}}) return fail("step 1");
    if (m[2] != json{{"role", "assistant"}, {"content", "reply"}}) return fail("step 2");
    if (m[3] != json{{"role", "user"}, {"content", "say hello"}}) return fail("the message once");
    HttpReply reply;
    reply.content_type = "text/event-stream";
    reply.chunks = {sse(content_chunk("Hi")) + "data: [DONE]\n\n"};
    return reply;
  });
  TempDir tmp("agent-exec");
  const auto r =
      exec_payload(tmp, reference_turn_payload("vespid.loop.v1"),
                   {{"OPENAI_API_KEY", "sk-test-123"}, {"OPENAI_BASE_URL", server.url() + "/v1/"}});
  EXPECT_EQ(problems, "");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto frames = json_lines(r.out);
  EXPECT_EQ(frames.back()["status"], "succeeded") << frames.back().dump();
  EXPECT_EQ(frames.back()["output"]["text"], "Hi");
  const auto events = events_of(frames);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0]["payload"]["model"], "gpt-ref");
  EXPECT_EQ(events[1]["payload"]["applied"], json::array({"greeting"}));
}

TEST(AgentExec, TheReferenceShapeIsCheckedWithTheReferenceCodes) {
  TempDir tmp("agent-exec");
  auto error_of = [&](const json& payload) {
    const auto r = exec_payload(tmp, payload);
    const auto frames = json_lines(r.out);
    return frames.empty() ? std::string("no frames: ") + r.err
                          : frames.back().value("error", std::string("(none)"));
  };
  json echo = reference_turn_payload("vespid.echo.v1");
  echo.erase("toolset");
  {
    const auto r = exec_payload(tmp, echo);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(json_lines(r.out).back()["output"]["text"], "say hello");
  }
  json wrong_type = echo;
  wrong_type["node"]["type"] = "agent.execute";
  EXPECT_EQ(error_of(wrong_type).rfind("INVALID_AGENT_RUN_NODE", 0), 0u);
  json no_instructions = echo;
  no_instructions["node"]["config"]["prompt"].erase("instructions");
  EXPECT_EQ(error_of(no_instructions).rfind("INVALID_AGENT_RUN_NODE", 0), 0u);
  json no_node_object = echo;
  no_node_object["node"] = "agent";
  EXPECT_EQ(error_of(no_node_object).rfind("INVALID_AGENT_RUN_PAYLOAD", 0), 0u);
  json no_engine = echo;
  no_engine["node"]["config"].erase("engine");
  EXPECT_EQ(error_of(no_engine).rfind("OPENAI_API_KEY_MISSING", 0), 0u)
      << "the reference's default engine is vespid.loop.v1";
}

TEST(AgentExec, LoopReportsHttpErrorsWithStatusAndBody) {
  LoopbackHttpServer server([](const HttpRecord&) {
    return HttpReply{
        401,
        "application/json",
        {R"({"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}})"}};
  });
  TempDir tmp("agent-exec");
  const auto r =
      exec_payload(tmp, {{"engine", "vespid.loop.v1"}, {"model", "m"}, {"message", "hi"}},
                   {{"OPENAI_API_KEY", "sk-wrong"}, {"OPENAI_BASE_URL", server.url()}});
  EXPECT_EQ(r.exit_code, 1);
  const std::string error = json_lines(r.out).back()["error"];
  EXPECT_NE(error.find("HTTP 401"), std::string::npos) << error;
  EXPECT_NE(error.find("Incorrect API key provided"), std::string::npos) << error;
  EXPECT_EQ(error.find("sk-wrong"), std::string::npos) << "the key must not leak: " << error;
}

TEST(AgentExec, AnUnreadableCaFileIsAClearErrorNotAnUnverifiedConnection) {
  TempDir tmp("agent-exec");
  const auto r =
      exec_payload(tmp, {{"engine", "vespid.loop.v1"}, {"model", "m"}, {"message", "hi"}},
                   {{"OPENAI_API_KEY", "sk"},
                    {"OPENAI_BASE_URL", "https://127.0.0.1:1/v1"},
                    {"VESPID_AGENT_TLS_CA_FILE", tmp.file("missing-ca.pem")}});
  EXPECT_EQ(r.exit_code, 1);
  const std::string error = json_lines(r.out).back()["error"];
  EXPECT_NE(error.find("VESPID_AGENT_TLS_CA_FILE"), std::string::npos) << error;
}
