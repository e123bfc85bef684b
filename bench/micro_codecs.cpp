// Each JSON frame codec's two steps on its hottest frame: parse (bytes -> validated frame, the
// shared typed-frame parser every dialect starts with, plus the fields the handler reads) and
// serialize (the frame the core sends -> bytes). Baseline in the same run: copying the same
// bytes (the floor any codec pays), so each ratio says how far a codec is above a memcpy.
#include <benchmark/benchmark.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "protocols/typed_frame.hpp"

namespace {

using nlohmann::json;

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The frames, as they travel (payload sizes of a small invoke / one streamed delta).
const std::string& bridge_invoke_res() {
  static const std::string s = dump({{"type", "invoke-res"},
                                     {"id", "inv-1234567"},
                                     {"ok", true},
                                     {"payloadJSON", R"({"text":"pong","n":42})"}});
  return s;
}
json bridge_invoke() {
  return {{"type", "invoke"},
          {"id", "inv-1234567"},
          {"command", "system.echo"},
          {"paramsJSON", R"({"text":"ping","n":42})"}};
}
const std::string& node_execute_result() {
  static const std::string s = dump({{"type", "execute_result"},
                                     {"requestId", "run-42:summarise:1"},
                                     {"status", "succeeded"},
                                     {"output", {{"text", std::string(200, 'x')}}}});
  return s;
}
json node_execute() {
  return {{"type", "execute"},
          {"requestId", "run-42:summarise:1"},
          {"organizationId", "6f1c2b7e-8d4a-4b1e-9a53-2f7f0c1d9e88"},
          {"userId", "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"},
          {"kind", "agent.execute"},
          {"payload", {{"message", std::string(200, 'x')}}}};
}
const std::string& client_session_send() {
  static const std::string s = dump({{"type", "session_send"},
                                     {"sessionId", "ses_3f9c0a1b2c3d4e5f60718293"},
                                     {"message", "hello there, how are you"},
                                     {"id", 7}});
  return s;
}
json client_session_event() {
  return {{"type", "session_event"},
          {"sessionId", "ses_3f9c0a1b2c3d4e5f60718293"},
          {"seq", 1234},
          {"eventType", "agent_delta"},
          {"level", "info"},
          {"payload", {{"text", " world"}}},
          {"createdAt", "2026-11-22T10:01:02.345Z"}};
}
const std::string& operator_req() {
  static const std::string s =
      dump({{"type", "req"},
            {"id", 17},
            {"method", "nodes.invoke"},
            {"params", {{"node", "phone-1"}, {"command", "system.echo"}, {"params", {{"n", 1}}}}}});
  return s;
}
json operator_res() {
  return {{"type", "res"}, {"id", 17}, {"ok", true}, {"payload", {{"text", "pong"}, {"n", 42}}}};
}

void copy_bytes(benchmark::State& state, const std::string& bytes) {
  std::string out;
  out.resize(bytes.size());
  for (auto _ : state) {
    std::memcpy(out.data(), bytes.data(), bytes.size());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}

// Parse as the dialects do: the typed frame, then the string fields the handler reads.
void parse(benchmark::State& state, const std::string& bytes, const char* field) {
  std::string error;
  for (auto _ : state) {
    auto frame = vespid::core::parse_typed_frame(bytes, error);
    if (!frame) state.SkipWithError(error.c_str());
    const json& f = *frame;
    auto it = f.find(field);
    benchmark::DoNotOptimize(it);
    benchmark::DoNotOptimize(f["type"].get_ref<const std::string&>().size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}

void serialize(benchmark::State& state, const json& frame) {
  size_t bytes = 0;
  for (auto _ : state) {
    std::string s = dump(frame);
    bytes = s.size();
    benchmark::DoNotOptimize(s.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

// Building the frame object as well as dumping it: what a handler really pays to answer.
template <class Build>
void build_and_serialize(benchmark::State& state, Build build) {
  for (auto _ : state) {
    std::string s = dump(build());
    benchmark::DoNotOptimize(s.data());
  }
}

void BM_Baseline_Copy_BridgeInvokeRes(benchmark::State& s) {
  copy_bytes(s, bridge_invoke_res());
}
void BM_Bridge_Parse_InvokeRes(benchmark::State& s) {
  parse(s, bridge_invoke_res(), "id");
}
void BM_Bridge_Serialize_Invoke(benchmark::State& s) {
  serialize(s, bridge_invoke());
}
void BM_Bridge_BuildSerialize_Invoke(benchmark::State& s) {
  build_and_serialize(s, bridge_invoke);
}

void BM_Baseline_Copy_NodeResult(benchmark::State& s) {
  copy_bytes(s, node_execute_result());
}
void BM_Node_Parse_ExecuteResult(benchmark::State& s) {
  parse(s, node_execute_result(), "requestId");
}
void BM_Node_Serialize_Execute(benchmark::State& s) {
  serialize(s, node_execute());
}

void BM_Baseline_Copy_ClientSend(benchmark::State& s) {
  copy_bytes(s, client_session_send());
}
void BM_Client_Parse_SessionSend(benchmark::State& s) {
  parse(s, client_session_send(), "sessionId");
}
void BM_Client_Serialize_SessionEvent(benchmark::State& s) {
  serialize(s, client_session_event());
}

void BM_Baseline_Copy_OperatorReq(benchmark::State& s) {
  copy_bytes(s, operator_req());
}
void BM_Operator_Parse_Req(benchmark::State& s) {
  parse(s, operator_req(), "method");
}
void BM_Operator_Serialize_Res(benchmark::State& s) {
  serialize(s, operator_res());
}

BENCHMARK(BM_Baseline_Copy_BridgeInvokeRes);
BENCHMARK(BM_Bridge_Parse_InvokeRes);
BENCHMARK(BM_Bridge_Serialize_Invoke);
BENCHMARK(BM_Bridge_BuildSerialize_Invoke);
BENCHMARK(BM_Baseline_Copy_NodeResult);
BENCHMARK(BM_Node_Parse_ExecuteResult);
BENCHMARK(BM_Node_Serialize_Execute);
BENCHMARK(BM_Baseline_Copy_ClientSend);
BENCHMARK(BM_Client_Parse_SessionSend);
BENCHMARK(BM_Client_Serialize_SessionEvent);
BENCHMARK(BM_Baseline_Copy_OperatorReq);
BENCHMARK(BM_Operator_Parse_Req);
BENCHMARK(BM_Operator_Serialize_Res);

}  // namespace
