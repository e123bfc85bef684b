#include "node_invoke.hpp"

#include <spdlog/spdlog.h>

#include <random>

#include "process_runner.hpp"

namespace vespid::agent {

namespace {

using nlohmann::json;

constexpr std::size_t kEventOutputTail = 20'000;  // the reference's OUTPUT_EVENT_TAIL
constexpr const char* kTruncatedMark = "... (truncated)";

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string random_run_id() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string s;
  for (int i = 0; i < 32; ++i) s += "0123456789abcdef"[hex(rd)];
  return s.substr(0, 8) + "-" + s.substr(8, 4) + "-" + s.substr(12, 4) + "-" + s.substr(16, 4) +
         "-" + s.substr(20);
}

// A UTF-8 boundary at or before `n`.
std::size_t utf8_cut(const std::string& s, std::size_t n) {
  if (n >= s.size()) return s.size();
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

json ok_response(const json& id, const json& payload) {
  return {{"type", "invoke-res"}, {"id", id}, {"ok", true}, {"payloadJSON", dump(payload)}};
}

json exec_event(const std::string& name, json payload) {
  return {{"type", "event"}, {"event", name}, {"payloadJSON", dump(payload)}};
}

json event_base(const RunParams& p, const std::string& run_id) {
  return {{"sessionKey", p.session_key},
          {"runId", run_id},
          {"host", "node"},
          {"command", p.command_text}};
}

json parse_params(const json& invoke, bool& bad, std::string& why) {
  const auto it = invoke.find("paramsJSON");
  if (it == invoke.end() || it->is_null()) return nullptr;
  if (!it->is_string()) {
    bad = true;
    why = "paramsJSON must be a string holding JSON";
    return nullptr;
  }
  json p = json::parse(it->get<std::string>(), nullptr, false);
  if (p.is_discarded()) {
    bad = true;
    why = "paramsJSON is not valid JSON";
    return nullptr;
  }
  return p;
}

json run(const json& id, const json& params, const NodeInvokeConfig& cfg,
         const std::function<void(json)>& emit, std::string& text_out) {
  ParamsError perr;
  std::optional<RunParams> p = parse_run_params(params, cfg.limits, perr);
  if (!p) return invoke_error(id, "INVALID_REQUEST", perr.message);
  const std::string run_id = random_run_id();
  const std::string path_var = child_path(cfg.own_env);
  auto deny = [&](const std::string& reason, const std::string& code, const std::string& msg) {
    json ev = event_base(*p, run_id);
    ev["reason"] = reason;
    emit(exec_event("exec.denied", ev));
    spdlog::warn("system.run {} refused: {}", p->command_text, msg);
    return invoke_error(id, code, msg);
  };
  if (p->needs_screen_recording) {
    return deny("permission:screenRecording", "UNAVAILABLE",
                "PERMISSION_MISSING: screenRecording (a headless node records no screen)");
  }
  const AllowDecision allowed = cfg.allow.check(p->argv.front(), path_var);
  if (allowed.invalid) return invoke_error(id, "INVALID_REQUEST", allowed.error);
  if (!allowed.allowed()) return deny("allowlist-miss", "UNAVAILABLE", allowed.error);
  for (const auto& k : p->dropped_env) {
    spdlog::info("system.run: env {} dropped (a caller may not set it)", k);
  }
  emit(exec_event("exec.started", event_base(*p, run_id)));
  spdlog::info("system.run {} (timeout {} ms)", p->command_text, p->timeout.count());
  ProcessSpec spec;
  spec.path = allowed.path;
  spec.argv = p->argv;
  spec.env = child_environment(p->env, cfg.own_env);
  spec.cwd = p->cwd;
  spec.timeout = p->timeout;
  spec.max_output_bytes = cfg.limits.max_output_bytes;
  spec.stop = cfg.stop;
  ProcessResult r = run_process(spec);
  if (r.truncated) {
    // As the reference marks it, on the stream a reader looks at last; `truncated` says it too.
    std::string& mark_on = r.stderr_text.empty() ? r.stdout_text : r.stderr_text;
    mark_on += std::string("\n") + kTruncatedMark;
  }
  std::string error = r.error;
  if (error.empty() && r.timed_out) {
    error = "timed out after " + std::to_string(p->timeout.count()) + " ms; killed";
  } else if (error.empty() && r.stopped) {
    error = "the node is stopping; killed";
  } else if (error.empty() && r.signal) {
    error = "killed by signal " + std::to_string(*r.signal);
  }
  json payload = {{"timedOut", r.timed_out},
                  {"success", r.success()},
                  {"stdout", r.stdout_text},
                  {"stderr", r.stderr_text},
                  {"error", error.empty() ? json() : json(error)},
                  {"truncated", r.truncated}};
  if (r.exit_code) payload["exitCode"] = *r.exit_code;
  json fin = event_base(*p, run_id);
  if (r.exit_code) fin["exitCode"] = *r.exit_code;
  fin["timedOut"] = r.timed_out;
  fin["success"] = r.success();
  std::string combined = r.stdout_text;
  for (const std::string* part : {&r.stderr_text, &error}) {
    if (part->empty()) continue;
    if (!combined.empty()) combined += "\n";
    combined += *part;
  }
  if (combined.size() > kEventOutputTail) {
    std::size_t from = combined.size() - kEventOutputTail;
    while (from < combined.size() && (static_cast<unsigned char>(combined[from]) & 0xC0) == 0x80)
      ++from;
    combined = std::string(kTruncatedMark) + " " + combined.substr(from);
  }
  if (!combined.empty()) fin["output"] = combined;
  emit(exec_event("exec.finished", fin));
  spdlog::info("system.run {} ended: {}{}", p->command_text,
               r.exit_code ? "exit " + std::to_string(*r.exit_code) : error,
               r.truncated ? " (output truncated)" : "");
  text_out = fit_run_response(id, payload, cfg.max_line_bytes);
  return nullptr;
}

json which(const json& id, const json& params, const NodeInvokeConfig& cfg) {
  ParamsError perr;
  auto bins = parse_which_params(params, perr);
  if (!bins) return invoke_error(id, "INVALID_REQUEST", perr.message);
  const std::string path_var = child_path(cfg.own_env);
  // Only allowed executables are reported: a node does not tell the gateway what else is
  // installed. The reference's answer shape: names found, each with its path.
  json found = json::object();
  for (const auto& b : *bins) {
    if (auto where = cfg.allow.which(b, path_var)) found[b] = *where;
  }
  return ok_response(id, {{"bins", found}});
}

}  // namespace

std::vector<std::string> node_commands() {
  return {"system.run", "system.which"};
}

json invoke_error(const json& id, const std::string& code, const std::string& message) {
  return {{"type", "invoke-res"},
          {"id", id},
          {"ok", false},
          {"error", {{"code", code}, {"message", message}}}};
}

std::string fit_run_response(const json& id, json& payload, std::size_t max_line_bytes) {
  for (;;) {
    std::string text = dump(ok_response(id, payload));
    if (text.size() <= max_line_bytes) return text;
    std::string out = payload.value("stdout", std::string());
    std::string err = payload.value("stderr", std::string());
    if (out.empty() && err.empty()) return text;  // nothing left to cut
    // Halve the longer stream; the shorter one (often the error) survives longest.
    std::string& longer = out.size() >= err.size() ? out : err;
    longer.resize(utf8_cut(longer, longer.size() / 2));
    payload["stdout"] = out;
    payload["stderr"] = err;
    payload["truncated"] = true;
  }
}

std::string handle_invoke(const json& invoke, const NodeInvokeConfig& cfg,
                          const std::function<void(json)>& emit) {
  json id = invoke.contains("id") ? invoke["id"] : json();
  const std::string command = invoke.value("command", std::string());
  bool bad = false;
  std::string why;
  json params = parse_params(invoke, bad, why);
  if (bad) return dump(invoke_error(id, "INVALID_REQUEST", why));
  if (command == "system.which") return dump(which(id, params, cfg));
  if (command != "system.run") {
    return dump(invoke_error(id, "UNAVAILABLE", "command not supported: \"" + command + "\""));
  }
  std::string text;
  json refused = run(id, params, cfg, emit, text);
  return refused.is_null() ? text : dump(refused);
}

}  // namespace vespid::agent
