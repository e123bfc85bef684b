#include "services/sessions/session_service.hpp"

#include <algorithm>
#include <cstdio>

#include "json_write.hpp"
#include "runtime/api_error.hpp"
#include "runtime/crypto.hpp"
#include "runtime/gateway_metrics.hpp"
#include "runtime/json_fields.hpp"
#include "runtime/logging.hpp"
#include "runtime/name_uuid.hpp"
#include "runtime/time.hpp"
#include "services/dispatch/dispatcher.hpp"
#include "services/identity/org_access.hpp"
#include "services/nodes/node_router.hpp"
#include "services/sessions/agent_run_payload.hpp"
#include "storage/keys.hpp"
#include "storage/repository.hpp"

namespace vespid::repo::keys {
std::string padded(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llu", static_cast<unsigned long long>(n));
  return buf;
}
}  // namespace vespid::repo::keys

namespace vespid::sessions {

using core::Compare;
using core::Task;
using core::Txn;
using core::Write;
using nlohmann::json;
namespace keys = repo::keys;

namespace {

std::shared_ptr<spdlog::logger> L() {
  return log::get("sessions");
}

constexpr size_t kMaxMessageBytes = 256 * 1024;
// One page of stored events (REST, operator.v1, a replay's page): past it the page ends early.
constexpr size_t kMaxPageBytes = 1024 * 1024;
constexpr size_t kMaxIdempotencyKey = 256;
constexpr int kCommitRetries = 5;
// Sessions whose last seq is remembered; past this the memory is simply dropped (a read per
// batch until it fills again), so it never grows without bound.
constexpr size_t kSeqCacheMax = 10000;

// A turn's request id: the reference's "<sessionId>:agent:<attemptCount>", attemptCount being
// the user_message's seq + 1.
std::string turn_request_id(const std::string& session_id, uint64_t user_message_seq) {
  return session_id + ":" + kTurnNodeId + ":" + std::to_string(user_message_seq + 1);
}

// The payload's attemptCount. The reference agent refuses one above 1000 and seq counts every
// event (each delta too), so a long session would pass it after a few dozen turns; the request
// id keeps the exact number, the payload the most the agent accepts (docs/wire-facts.md).
int turn_attempt_count(uint64_t user_message_seq) {
  return static_cast<int>(std::min<uint64_t>(user_message_seq + 1, 1000));
}

api::ApiError session_not_found(const std::string& id) {
  return {"SESSION_NOT_FOUND", "no session \"" + id + "\" in this org", {{"sessionId", id}}};
}

// "CODE: message" (the node host's error strings) -> {code, message}.
json split_error(const std::string& text) {
  auto colon = text.find(':');
  std::string code = colon == std::string::npos ? text : text.substr(0, colon);
  bool is_code = !code.empty() && std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!is_code) return {{"code", "AGENT_ERROR"}, {"message", text}};
  std::string message = colon == std::string::npos ? code : text.substr(colon + 1);
  while (!message.empty() && message.front() == ' ') message.erase(message.begin());
  return {{"code", code}, {"message", message}};
}

std::string string_field(const json& body, const char* name, size_t max_bytes) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return {};
  if (!it->is_string() || it->get_ref<const std::string&>().size() > max_bytes) {
    throw api::invalid(std::string("\"") + name + "\" must be a string of at most " +
                           std::to_string(max_bytes) + " bytes",
                       {{"field", name}});
  }
  return *it;
}

// A toolset carries whole SKILL.md bundles (the node host caps what it uses at 80000
// characters, but the bundles themselves may be larger), so it may be bigger than the other
// objects; it still fits the ws listener's default max_message_bytes (1 MiB) with the rest.
constexpr size_t kMaxObjectBytes = 64 * 1024;
constexpr size_t kMaxToolsetBytes = 512 * 1024;

json object_field(const json& body, const char* name, size_t max_bytes = kMaxObjectBytes) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  if (!it->is_object() || it->dump().size() > max_bytes) {
    throw api::invalid(std::string("\"") + name + "\" must be an object (at most " +
                           std::to_string(max_bytes / 1024) + " KiB)",
                       {{"field", name}});
  }
  return *it;
}

// A string member of host-supplied JSON, or `fallback` (hosts are not trusted to send strings).
std::string str(const json& j, const char* key, const std::string& fallback = "") {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

uint64_t parse_seq(const std::string& text) {
  try {
    return std::stoull(text);
  } catch (...) {
    return 0;
  }
}

}  // namespace

json session_view(const json& r) {
  json v = r;
  v.erase("lastActivityMs");
  // The reference's names for the same facts (its AgentSessionRecord), beside this gateway's
  // own, so its CLI and UI read them (docs/wire-facts.md).
  const json& sel = r.contains("selector") && r["selector"].is_object() ? r["selector"] : json();
  v["organizationId"] = r.value("orgId", "");
  v["createdByUserId"] = r.value("createdBy", "");
  v["status"] = "active";
  v["engineId"] = r.value("engine", "");
  v["llmProvider"] = r.value("llmProvider", "openai");
  v["llmModel"] = r.value("model", "");
  v["promptSystem"] = r.contains("promptSystem") ? r["promptSystem"] : json();
  v["promptInstructions"] = r.value("instructions", "");
  v["toolsAllow"] = r.contains("toolsAllow") ? r["toolsAllow"] : json::array();
  v["selectorTag"] = sel.is_object() && sel.contains("tag") ? sel["tag"] : json();
  v["selectorGroup"] = sel.is_object() && sel.contains("group") ? sel["group"] : json();
  v["updatedAt"] = r.value("lastActivityAt", "");
  return v;
}

// The reference's create body (engineId, llm {provider, model}, prompt {system?, instructions},
// tools {allow}) as this gateway's own fields; a field given both ways keeps the own one.
void accept_reference_create_body(json& body) {
  auto fill = [&](const char* own, const json& value) {
    if (!value.is_null() && (!body.contains(own) || body[own].is_null())) body[own] = value;
  };
  if (body.contains("engineId")) fill("engine", body["engineId"]);
  for (const char* group : {"llm", "prompt", "tools"}) {
    if (body.contains(group) && !body[group].is_null() && !body[group].is_object()) {
      throw api::invalid(std::string("\"") + group + "\" must be an object", {{"field", group}});
    }
  }
  if (body.contains("llm") && body["llm"].is_object()) {
    fill("model", body["llm"].value("model", json()));
    fill("llmProvider", body["llm"].value("provider", json()));
  }
  if (body.contains("prompt") && body["prompt"].is_object()) {
    fill("instructions", body["prompt"].value("instructions", json()));
    fill("promptSystem", body["prompt"].value("system", json()));
  }
  if (body.contains("tools") && body["tools"].is_object()) {
    fill("toolsAllow", body["tools"].value("allow", json()));
  }
}

// ---- Per-session lanes: an async mutex, FIFO, resumed inside the Sequencer ----

struct SessionService::LaneAwaiter {
  std::unordered_map<std::string, Lane>* lanes;
  std::string id;
  bool await_ready() {
    Lane& l = (*lanes)[id];
    if (!l.busy) {
      l.busy = true;
      return true;
    }
    return false;
  }
  void await_suspend(std::coroutine_handle<> h) { (*lanes)[id].waiters.push_back(h); }
  void await_resume() const noexcept {}
};

// Releases the lane when it goes out of scope: hands it to the next waiter or forgets it.
struct SessionService::LaneLock {
  std::unordered_map<std::string, Lane>* lanes;
  std::string id;
  LaneLock(std::unordered_map<std::string, Lane>* l, std::string i) : lanes(l), id(std::move(i)) {}
  LaneLock(const LaneLock&) = delete;
  LaneLock& operator=(const LaneLock&) = delete;
  ~LaneLock() {
    auto it = lanes->find(id);
    if (it == lanes->end()) return;
    if (it->second.waiters.empty()) {
      lanes->erase(it);
      return;
    }
    auto next = it->second.waiters.front();
    it->second.waiters.pop_front();
    next.resume();  // it owns the lane now (busy stays true)
  }
};

SessionService::LaneAwaiter SessionService::lock(std::unordered_map<std::string, Lane>& lanes,
                                                 const std::string& id) {
  return LaneAwaiter{&lanes, id};
}

// ---- The listener of one turn: host events -> session events ----

class SessionService::RunListener final : public dispatch::ExecutionListener,
                                          public std::enable_shared_from_this<RunListener> {
 public:
  // turn_seq: the seq of the user_message that started the turn. run_id: what every event of
  // the turn carries as payload.runId (the sender's idempotency key, else the dispatch's request
  // id), so a chat client can tell its run's events apart. resumed: rebuilt after a gateway
  // restart, so what the host streamed before it is known only from storage.
  RunListener(SessionService& s, std::string session_id, uint64_t turn_seq, std::string run_id,
              bool resumed = false)
      : s_(s),
        session_id_(std::move(session_id)),
        turn_seq_(turn_seq),
        run_id_(std::move(run_id)),
        resumed_(resumed) {}

  json resume_state() const override {
    return {{"sessionId", session_id_}, {"turnSeq", turn_seq_}, {"runId", run_id_}};
  }

  // Adopted from an instance that died mid-turn: the host's events come again from the first
  // one. Each that becomes a session event became exactly one (on_event), so as many as this
  // turn already has stored are skipped (counted at the first flush).
  void replaying_from_first_event() override { count_stored_ = true; }

  const std::string& request_id() const noexcept { return request_id_; }
  const std::string& run_id() const noexcept { return run_id_; }
  void set_request_id(std::string id) { request_id_ = std::move(id); }
  bool ended() const noexcept { return done_; }

  // The turn is over for the session now, whatever the host still does: an `error` event
  // TURN_CANCELED (the reference agent's code for a cancelled turn) is stored, and the host's
  // later events and result become no session events. False when the turn had already ended.
  bool cancel(const std::string& stop_reason, const std::string& by) {
    if (done_) return false;
    done_ = true;
    cancelled_ = true;
    json e = {{"code", "TURN_CANCELED"},
              {"message", "the turn was cancelled by " + by},
              {"requestId", request_id_},
              {"status", "failed"},
              {"error", "TURN_CANCELED: Turn canceled"},
              {"stopReason", stop_reason}};
    queue(EventDraft{"error", "error", std::move(e)});
    s_.turn_ended(session_id_, this);
    metrics::instruments().session_turns[metrics::TurnOutcome::Canceled].inc();
    return true;
  }

  // agent_final and error payloads carry the reference's {requestId, status, output?|error}
  // beside this gateway's {text} and {code, message} (docs/wire-facts.md).
  void on_event(const std::string& request_id, const json& ev) override {
    if (!ev.is_object() || cancelled_) return;
    std::string kind = str(ev, "kind");
    json payload =
        ev.contains("payload") && ev["payload"].is_object() ? ev["payload"] : json::object();
    EventDraft d;
    d.level = str(ev, "level", "info");
    if (kind == "agent.assistant_delta") {
      d.type = "agent_delta";
      d.payload = {{"text", str(payload, "text")}};
    } else if (kind == "agent.assistant_message") {
      d.type = "agent_message";
      d.payload = {{"text", str(payload, "text")}};
    } else if (kind == "agent.tool_call") {
      d.type = "tool_call";
      d.payload = payload;
    } else if (kind == "agent.tool_result") {
      d.type = "tool_result";
      d.payload = payload;
    } else if (kind == "agent.final") {
      d.type = "agent_final";
      d.payload = {{"text", str(payload, "text")},
                   {"requestId", request_id},
                   {"status", "succeeded"},
                   {"output", {{"text", str(payload, "text")}}}};
      final_seen_ = true;
    } else if (kind == "agent.error") {
      d.type = "error";
      d.level = "error";
      const std::string message = str(ev, "message", str(payload, "message", "agent error"));
      d.payload = split_error(message);
      d.payload["requestId"] = request_id;
      d.payload["status"] = "failed";
      d.payload["error"] = message;
      error_seen_ = true;
    } else {
      // agent.start, agent.turn_started, toolset_skills_applied, agent.output_truncated, ...:
      // not session events; the host's own log has them.
      return;
    }
    queue(std::move(d));
  }

  void on_result(const std::string& request_id, const json& result) override {
    if (cancelled_) return;
    done_ = true;
    s_.turn_ended(session_id_, this);
    count_turn(result);
    if (resumed_) {
      // Whether agent_final or error was stored before the restart is read in flush_all.
      deferred_result_ = {{"requestId", request_id}, {"result", result}};
      kick();
      return;
    }
    queue_result(request_id, result);
    kick();
  }

 private:
  static void count_turn(const json& result) {
    const std::string status = str(result, "status");
    const std::string error = str(result, "error");
    metrics::instruments()
        .session_turns[status == "succeeded"               ? metrics::TurnOutcome::Succeeded
                       : error == "NODE_EXECUTION_TIMEOUT" ? metrics::TurnOutcome::Timeout
                                                           : metrics::TurnOutcome::Failed]
        .inc();
  }

  void queue_result(const std::string& request_id, const json& result) {
    std::string status = str(result, "status");
    if (status == "succeeded") {
      if (!final_seen_) {
        EventDraft d;
        d.type = "agent_final";
        const json& out = result.contains("output") ? result["output"] : json();
        d.payload = {
            {"text", str(out, "text")}, {"requestId", request_id}, {"status", "succeeded"}};
        if (!out.is_null()) d.payload["output"] = out;
        if (!run_id_.empty()) d.payload["runId"] = run_id_;
        pending_.push_back(std::move(d));
      }
    } else {
      std::string err = result.contains("error") && result["error"].is_string()
                            ? result["error"].get<std::string>()
                            : std::string("UNKNOWN: the node host reported a failure");
      json e = err == "NODE_EXECUTION_TIMEOUT"
                   ? json{{"code", "NODE_EXECUTION_TIMEOUT"},
                          {"message", "the node host did not answer in time"}}
                   : split_error(err);
      // The host already streamed agent.error for this failure; a timeout it never saw.
      if (!error_seen_ || e["code"] == "NODE_EXECUTION_TIMEOUT") {
        e["requestId"] = request_id;
        e["status"] = "failed";
        e["error"] = err;
        if (!run_id_.empty()) e["runId"] = run_id_;
        pending_.push_back(EventDraft{"error", "error", e});
      }
    }
  }

  void queue(EventDraft d) {
    if (ended_in_storage_) return;
    if (!run_id_.empty()) d.payload["runId"] = run_id_;
    pending_.push_back(std::move(d));
    kick();
  }
  // One writer per turn: events that arrive while a batch is being stored go in the next one.
  void kick() {
    if (flushing_ || (pending_.empty() && !(done_ && !touched_))) return;
    flushing_ = true;
    Task<void> t = flush(shared_from_this());
    core::spawn(
        std::move(t), [] {},
        [](std::exception_ptr e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            L()->error("session events could not be stored: {}", ex.what());
          }
        });
  }

  static Task<void> flush(std::shared_ptr<RunListener> self) {
    try {
      Task<void> t = flush_all(self);
      co_await std::move(t);
    } catch (...) {
      // Logged by kick's handler; the next event tries again rather than stalling the turn.
      self->flushing_ = false;
      throw;
    }
  }

  // The eventType of each event this turn has stored so far, in seq order: read a chunk at a
  // time from just after the turn's user_message up to the next turn's.
  static Task<std::vector<std::string>> stored_turn_types(std::shared_ptr<RunListener> self) {
    constexpr uint32_t kChunk = 256;
    const std::string prefix = keys::session_events(self->session_id_);
    const std::string end = core::StorageService::prefix_end(prefix);
    std::string start = keys::session_event(self->session_id_, self->turn_seq_ + 1);
    std::vector<std::string> types;
    for (;;) {
      auto rows = co_await self->s_.storage_.scan(start, end, kChunk);
      for (const auto& row : rows) {
        json ev = json::parse(row.value, nullptr, false);
        std::string type = core::fields::string_if(ev, "eventType");
        if (type == "user_message") co_return types;
        types.push_back(std::move(type));
      }
      if (rows.size() < kChunk) co_return types;
      start = rows.back().key + '\0';  // just after the last key read
    }
  }

  // A resumed turn's final event may already be stored (the gateway stopped between storing
  // the host's agent.final and its result): look before adding another.
  static Task<void> settle_deferred(std::shared_ptr<RunListener> self) {
    Task<std::vector<std::string>> t = stored_turn_types(self);
    const std::vector<std::string> types = co_await std::move(t);
    for (const auto& type : types) {
      if (type == "agent_final") self->final_seen_ = true;
      if (type == "error") self->error_seen_ = true;
    }
    json d = std::move(*self->deferred_result_);
    self->deferred_result_.reset();
    // A stored error ended the turn (the host's, or a cancel before the restart): nothing of
    // the result is added after it.
    if (self->error_seen_) co_return;
    self->queue_result(d["requestId"].get<std::string>(), d["result"]);
  }

  // How many of this turn's stored events came from host events (on_event's kinds).
  static Task<void> count_stored_host_events(std::shared_ptr<RunListener> self) {
    Task<std::vector<std::string>> t = stored_turn_types(self);
    const std::vector<std::string> types = co_await std::move(t);
    self->skip_ = static_cast<size_t>(std::count_if(types.begin(), types.end(), [](const auto& x) {
      return x == "agent_delta" || x == "agent_message" || x == "tool_call" || x == "tool_result" ||
             x == "agent_final" || x == "error";
    }));
    // The dead instance stored the turn's end (its final, an error, or a cancel): whatever the
    // replay and the result would add comes after the end.
    if (std::any_of(types.begin(), types.end(),
                    [](const auto& x) { return x == "agent_final" || x == "error"; })) {
      self->ended_in_storage_ = true;
      self->pending_.clear();
      self->skip_ = 0;
    }
  }

  static Task<void> flush_all(std::shared_ptr<RunListener> self) {
    if (self->count_stored_) {
      self->count_stored_ = false;
      Task<void> t = count_stored_host_events(self);
      co_await std::move(t);
    }
    // Replayed events the dead instance had stored already. Only on_event's drafts are ever
    // skipped: a result's draft is queued after every host event, once skip_ is spent.
    while (self->skip_ > 0 && !self->pending_.empty()) {
      self->pending_.pop_front();
      --self->skip_;
    }
    if (self->deferred_result_) {
      Task<void> t = settle_deferred(self);
      co_await std::move(t);
    }
    while (!self->pending_.empty()) {
      std::vector<EventDraft> batch(std::make_move_iterator(self->pending_.begin()),
                                    std::make_move_iterator(self->pending_.end()));
      self->pending_.clear();
      std::string sid = self->session_id_;
      Task<std::vector<json>> t = self->s_.append(std::move(sid), std::move(batch));
      co_await std::move(t);
    }
    if (self->done_ && !self->touched_) {
      self->touched_ = true;
      std::string sid = self->session_id_;
      Task<json> t = self->s_.update(std::move(sid), [](json& r) {
        r["lastActivityMs"] = util::now_ms();
        r["lastActivityAt"] = util::now_iso8601();
      });
      co_await std::move(t);
    }
    self->flushing_ = false;
    if (!self->pending_.empty()) self->kick();
  }

  SessionService& s_;
  std::string session_id_;
  uint64_t turn_seq_;
  std::string run_id_;
  bool resumed_;
  std::optional<json> deferred_result_;
  std::deque<EventDraft> pending_;
  bool flushing_ = false;
  bool final_seen_ = false;
  bool error_seen_ = false;
  bool count_stored_ = false;      // adopted: count what the dead instance stored before flushing
  bool ended_in_storage_ = false;  // adopted after the turn's end was stored: add nothing
  bool cancelled_ = false;         // cancel(): the host's later answers are not session events
  std::string request_id_;         // the dispatch, for cancel's event
  size_t skip_ = 0;                // replayed drafts still to drop
  bool done_ = false;
  bool touched_ = false;
};

// ---- Service ----

SessionService::SessionService(core::StorageService& storage, repo::Repository& repo,
                               nodes::NodeRouter& router, dispatch::Dispatcher& dispatcher,
                               SessionSettings settings)
    : storage_(storage),
      repo_(repo),
      router_(router),
      dispatcher_(dispatcher),
      settings_(settings) {
  // Turns in flight when the gateway stopped: their results (resent by the hosts) and timeouts
  // still become session events.
  dispatcher_.set_resumer(
      [this](const std::string& request_id,
             const json& state) -> std::shared_ptr<dispatch::ExecutionListener> {
        std::string sid = state.is_object() ? state.value("sessionId", "") : "";
        if (sid.empty()) return nullptr;
        L()->info("turn {} of session {} resumed after a restart", request_id, sid);
        auto l = std::make_shared<RunListener>(*this, sid, state.value("turnSeq", uint64_t{0}),
                                               state.value("runId", request_id), true);
        l->set_request_id(request_id);
        active_turns_[sid] = l;
        return l;
      });
}

SessionService::~SessionService() {
  dispatcher_.set_resumer(nullptr);
}

Task<std::optional<core::KV>> SessionService::load(std::string session_id) {
  if (session_id.empty() || session_id.size() > 128) co_return std::nullopt;
  auto kv = co_await storage_.get(keys::session(session_id));
  co_return kv;
}

Task<auth::OrgAccess> SessionService::check_access(Caller caller) {
  if (caller.who.role == core::Role::Node) {
    // The narrow node path: a paired node (authenticated by its transport) acts in its own org
    // only, never another org's; auth::require_org_access refuses Node principals.
    if (caller.who.org_id.empty() || caller.org_id != caller.who.org_id) {
      throw api::forbidden("a node acts in its own org only", {{"orgId", caller.org_id}});
    }
    co_return auth::OrgAccess{caller.org_id, std::nullopt, false};
  }
  Task<auth::OrgAccess> t =
      auth::require_org_access(repo_, caller.who, caller.org_id, repo::OrgRole::Member);
  auth::OrgAccess a = co_await std::move(t);
  co_return a;
}

Task<json> SessionService::require_session(Caller caller, std::string session_id) {
  Task<auth::OrgAccess> access_t = check_access(caller);
  auth::OrgAccess access = co_await std::move(access_t);
  Task<std::optional<core::KV>> t = load(session_id);
  std::optional<core::KV> kv = co_await std::move(t);
  if (!kv) throw session_not_found(session_id);
  json r = json::parse(kv->value);
  // Another org's session is "not found": ids are not to be probed.
  if (r.value("orgId", "") != access.org_id) throw session_not_found(session_id);
  co_return r;
}

Task<json> SessionService::create(Caller caller, json body) {
  Task<auth::OrgAccess> access_t =
      auth::require_org_access(repo_, caller.who, caller.org_id, repo::OrgRole::Member);
  auth::OrgAccess access = co_await std::move(access_t);
  Task<json> t = create_in(access.org_id, caller.who.user_id, std::move(body), nullptr);
  json r = co_await std::move(t);
  co_return session_view(r);
}

Task<json> SessionService::create_in(std::string org_id, std::string created_by, json body,
                                     CreateExtra extra) {
  accept_reference_create_body(body);
  std::string engine = string_field(body, "engine", 128);
  if (engine.empty()) engine = "vespid.loop.v1";
  json tools_allow = body.contains("toolsAllow") ? body["toolsAllow"] : json::array();
  if (tools_allow.is_null()) tools_allow = json::array();
  if (!tools_allow.is_array() || tools_allow.size() > 200 ||
      !std::all_of(tools_allow.begin(), tools_allow.end(), [](const json& t) {
        return t.is_string() && !t.get_ref<const std::string&>().empty() &&
               t.get_ref<const std::string&>().size() <= 120;
      })) {
    throw api::invalid("\"tools.allow\" must be an array of at most 200 tool names",
                       {{"field", "tools.allow"}});
  }
  json selector = object_field(body, "selector");
  json sel = json::object();
  if (selector.is_object()) {
    for (const char* f : {"tag", "group"}) {
      std::string v = string_field(selector, f, 256);
      if (!v.empty()) sel[f] = v;
    }
    if (selector.contains("agentId")) {
      throw api::invalid(
          "\"selector.agentId\" is not accepted: a session pins itself on its "
          "first message",
          {{"field", "selector.agentId"}});
    }
  }
  const int64_t now = util::now_ms();
  // A uuid, as the reference's: its node agent takes the session id as runId and workflowId
  // and refuses a turn whose ids are not uuids.
  const std::string id = crypto::uuid_v4();
  json r = {{"id", id},
            {"orgId", org_id},
            {"title", string_field(body, "title", 512)},
            {"engine", engine},
            {"model", string_field(body, "model", 256)},
            {"instructions", string_field(body, "instructions", 200 * 1000)},
            {"llmProvider", body.contains("llmProvider") && !body["llmProvider"].is_null()
                                ? string_field(body, "llmProvider", 32)
                                : std::string("openai")},
            {"promptSystem", body.contains("promptSystem") && !body["promptSystem"].is_null()
                                 ? json(string_field(body, "promptSystem", 200 * 1000))
                                 : json()},
            {"toolsAllow", tools_allow},
            {"toolset", object_field(body, "toolset", kMaxToolsetBytes)},
            {"selector", sel},
            {"limits", object_field(body, "limits")},
            {"pinnedAgentId", nullptr},
            {"createdBy", created_by},
            {"createdAt", util::iso8601(now)},
            {"lastActivityAt", util::iso8601(now)},
            {"lastActivityMs", now}};
  Txn txn;
  txn.compares.push_back(Compare::absent(keys::session(id)));
  txn.writes.push_back(Write::put(keys::session(id), r.dump()));
  txn.writes.push_back(Write::put(keys::org_session(org_id, now, id), ""));
  if (extra) extra(txn, id);
  core::TxnOutcome out = co_await storage_.commit(std::move(txn));
  if (!out.applied)
    throw api::conflict("the session could not be created (a concurrent change); retry");
  EventDraft created{"session_created",
                     "info",
                     {{"title", r["title"]}, {"engine", engine}, {"createdBy", r["createdBy"]}}};
  std::vector<EventDraft> drafts;
  drafts.push_back(std::move(created));
  Task<std::vector<json>> at = append(id, std::move(drafts));
  co_await std::move(at);
  L()->info("session {} created in org {} by {} (engine {})", id, org_id, created_by, engine);
  co_return r;
}

Task<std::optional<std::string>> SessionService::find_node_main_session(std::string node_id) {
  auto kv = co_await storage_.get(keys::node_main_session(node_id));
  if (!kv) co_return std::nullopt;
  co_return kv->value;
}

Task<std::string> SessionService::node_main_session(Caller node, std::string node_id) {
  const std::string key = keys::node_main_session(node_id);
  for (int attempt = 0; attempt < kCommitRetries; ++attempt) {
    auto kv = co_await storage_.get(key);
    if (kv) {
      Task<std::optional<core::KV>> lt = load(kv->value);
      std::optional<core::KV> rec = co_await std::move(lt);
      // A node re-paired into another org gets a new main session there.
      if (rec && json::parse(rec->value).value("orgId", "") == node.org_id) co_return kv->value;
    }
    const bool existed = kv.has_value();
    const uint64_t version = existed ? kv->version : 0;
    CreateExtra claim = [key, existed, version](Txn& txn, const std::string& id) {
      txn.compares.push_back(existed ? Compare::version_is(key, version) : Compare::absent(key));
      txn.writes.push_back(Write::put(key, id));
    };
    json body = {{"title", "main (" + node_id + ")"},
                 {"engine", settings_.node_main_engine},
                 {"model", settings_.node_main_model}};
    try {
      Task<json> t = create_in(node.org_id, node.who.user_id, std::move(body), std::move(claim));
      json r = co_await std::move(t);
      L()->info("node {}: its \"main\" session is {}", node_id, r["id"].get<std::string>());
      co_return r["id"].get<std::string>();
    } catch (const api::ApiError& e) {
      // Another call made it first: the next round reads what it made.
      if (e.code() != "CONFLICT") throw;
    }
  }
  throw api::unavailable("the \"main\" session of node " + node_id +
                         " is being created concurrently; retry");
}

Task<json> SessionService::list(Caller caller, int limit, std::string cursor,
                                SessionListFilter filter) {
  Task<auth::OrgAccess> access_t = check_access(caller);
  auth::OrgAccess access = co_await std::move(access_t);
  limit = std::clamp(limit <= 0 ? 50 : limit, 1, settings_.max_page);
  const std::string prefix = keys::org_sessions(access.org_id);
  if (cursor.find('/') == std::string::npos && !cursor.empty()) {
    throw api::invalid("\"cursor\" is not a cursor this API gave out", {{"field", "cursor"}});
  }
  // The index is "<activityMs>/<id>" under the org, read newest first. Without a filter every
  // row is a match and one scan of limit+1 rows says whether more follow; with one, rows are
  // read in batches until the page is full or the scan budget is spent.
  json out = json::array();
  json next = nullptr;
  std::string end = cursor.empty() ? core::StorageService::prefix_end(prefix) : prefix + cursor;
  int scanned = 0;
  while (true) {
    const int batch = filter.empty() ? limit + 1 : std::min(limit + 1, kMaxScannedPerPage);
    auto rows = co_await storage_.scan(prefix, end, static_cast<uint32_t>(batch), true);
    bool full = false;
    for (size_t i = 0; i < rows.size(); ++i) {
      std::string tail = rows[i].key.substr(prefix.size());
      if (static_cast<int>(out.size()) == limit || scanned == kMaxScannedPerPage) {
        full = true;  // a row beyond the page: the last one taken is where to go on from
        break;
      }
      ++scanned;
      end = rows[i].key;
      std::string id = tail.substr(tail.find('/') + 1);
      auto kv = co_await storage_.get(keys::session(id));
      if (!kv) continue;
      json record = json::parse(kv->value);
      if (filter.matches(record)) out.push_back(session_view(record));
    }
    if (full) {
      next = end.substr(prefix.size());
      break;
    }
    if (rows.size() < static_cast<size_t>(batch)) break;  // the index is read to its end
  }
  co_return json{{"sessions", out}, {"nextCursor", next}};
}

Task<json> SessionService::get(Caller caller, std::string session_id) {
  Task<json> t = require_session(std::move(caller), session_id);
  json r = co_await std::move(t);
  co_return json{{"session", session_view(r)}};
}

Task<json> SessionService::events(Caller caller, std::string session_id, uint64_t after_seq,
                                  int limit) {
  Task<json> t = require_session(std::move(caller), session_id);
  co_await std::move(t);
  limit = std::clamp(limit <= 0 ? 100 : limit, 1, settings_.max_page);
  const std::string prefix = keys::session_events(session_id);
  auto rows = co_await storage_.scan(keys::session_event(session_id, after_seq + 1),
                                     core::StorageService::prefix_end(prefix),
                                     static_cast<uint32_t>(limit + 1));
  // A page ends at `limit` events or once it holds kMaxPageBytes of them (at least one event),
  // so a page of large events is not a large page.
  json out = json::array();
  size_t bytes = 0;
  size_t taken = 0;
  for (; taken < rows.size() && taken < static_cast<size_t>(limit); ++taken) {
    if (taken > 0 && bytes + rows[taken].value.size() > kMaxPageBytes) break;
    bytes += rows[taken].value.size();
    out.push_back(json::parse(rows[taken].value));
  }
  json next = nullptr;
  if (rows.size() > taken && !out.empty()) next = out.back()["seq"];
  co_return json{{"events", out}, {"nextCursor", next}};
}

Task<std::vector<json>> SessionService::tail(Caller caller, std::string session_id, int count) {
  Task<json> t = require_session(std::move(caller), session_id);
  co_await std::move(t);
  count = std::clamp(count, 1, 10000);
  auto rows = co_await storage_.scan_prefix(keys::session_events(session_id),
                                            static_cast<uint32_t>(count), true);
  std::vector<json> out;
  out.reserve(rows.size());
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) out.push_back(json::parse(it->value));
  co_return out;
}

Task<std::vector<json>> SessionService::append(std::string session_id,
                                               std::vector<EventDraft> drafts) {
  Task<std::vector<json>> t = append_with(std::move(session_id), std::move(drafts), nullptr);
  std::vector<json> events = co_await std::move(t);
  co_return events;
}

Task<std::vector<json>> SessionService::append_with(std::string session_id,
                                                    std::vector<EventDraft> drafts,
                                                    TxnExtra extra) {
  co_await lock(append_lanes_, session_id);
  LaneLock held(&append_lanes_, session_id);
  for (int attempt = 0; attempt < kCommitRetries; ++attempt) {
    // The log's last seq as this gateway last wrote it saves a read per batch. The compare is
    // that the first new seq is still free: any other writer (another gateway) that numbered
    // from the same seq wrote that key first, so the compare fails and the log is read again.
    // Events are never deleted one by one, so a free key past the last one means nobody
    // wrote there.
    uint64_t last = 0;
    auto cached = attempt == 0 ? seq_cache_.find(session_id) : seq_cache_.end();
    if (cached != seq_cache_.end()) {
      last = cached->second;
    } else {
      auto newest = co_await storage_.scan_prefix(keys::session_events(session_id), 1, true);
      if (!newest.empty()) {
        last = parse_seq(newest.front().key.substr(keys::session_events(session_id).size()));
      }
    }
    Txn txn;
    txn.compares.push_back(Compare::absent(keys::session_event(session_id, last + 1)));
    std::vector<json> events;
    const std::string now = util::now_iso8601();
    for (auto& d : drafts) {
      json ev = {{"sessionId", session_id}, {"seq", ++last},        {"eventType", d.type},
                 {"level", d.level},        {"payload", d.payload}, {"createdAt", now}};
      txn.writes.push_back(Write::put(keys::session_event(session_id, last),
                                      json_write::dump(ev, json::error_handler_t::replace)));
      events.push_back(std::move(ev));
    }
    if (extra) extra(txn, events);
    core::TxnOutcome out = co_await storage_.commit(std::move(txn));
    if (!out.applied) seq_cache_.erase(session_id);
    if (!out.applied && out.failed_compare > 0) {
      throw api::conflict("session " + session_id + ": a concurrent change won; retry");
    }
    if (!out.applied) continue;  // another writer moved the counter: read it again
    if (seq_cache_.size() >= kSeqCacheMax && !seq_cache_.count(session_id)) seq_cache_.clear();
    seq_cache_[session_id] = last;
    for (const auto& ev : events) {
      metrics::instruments()
          .session_events[metrics::session_event_of(ev["eventType"].get_ref<const std::string&>())]
          .inc();
    }
    if (fan_out_) fan_out_(session_id, events);
    co_return events;
  }
  throw api::unavailable("session " + session_id + ": the event log is contended; retry");
}

Task<json> SessionService::update(std::string session_id, std::function<void(json&)> change) {
  for (int attempt = 0; attempt < kCommitRetries; ++attempt) {
    auto kv = co_await storage_.get(keys::session(session_id));
    if (!kv) throw session_not_found(session_id);
    json r = json::parse(kv->value);
    const int64_t old_ms = r.value("lastActivityMs", int64_t{0});
    change(r);
    const int64_t new_ms = r.value("lastActivityMs", int64_t{0});
    const std::string org = r.value("orgId", "");
    Txn txn;
    txn.compares.push_back(Compare::version_is(keys::session(session_id), kv->version));
    txn.writes.push_back(Write::put(keys::session(session_id), r.dump()));
    if (new_ms != old_ms) {
      txn.writes.push_back(Write::del(keys::org_session(org, old_ms, session_id)));
      txn.writes.push_back(Write::put(keys::org_session(org, new_ms, session_id), ""));
    }
    core::TxnOutcome out = co_await storage_.commit(std::move(txn));
    if (out.applied) co_return r;
  }
  throw api::unavailable("session " + session_id + " is being changed concurrently; retry");
}

Task<json> SessionService::history(std::string session_id, uint64_t before_seq) {
  // Bounded three ways: at most sessions.history_messages messages and
  // sessions.history_max_bytes of their text (the newest kept), found among at most
  // kHistoryScanEvents stored events read newest first kHistoryChunk at a time, so a turn of
  // thousands of deltas is never in memory at once.
  constexpr uint32_t kHistoryChunk = 64;
  constexpr size_t kHistoryScanEvents = 2000;
  const std::string start = keys::session_events(session_id);
  std::string end = keys::session_event(session_id, before_seq);  // exclusive
  std::vector<json> picked;
  size_t bytes = 0, scanned = 0;
  bool full = settings_.history_messages <= 0;
  while (!full && scanned < kHistoryScanEvents) {
    auto rows = co_await storage_.scan(start, end, kHistoryChunk, true);
    for (const auto& row : rows) {
      ++scanned;
      json ev = json::parse(row.value, nullptr, false);
      // Stored events hold what node hosts sent: a field of another type reads as empty rather
      // than failing every later turn of the session.
      const std::string type = core::fields::string_if(ev, "eventType");
      if (type != "user_message" && type != "agent_message") continue;
      const json payload = core::fields::any_if(ev, "payload");
      const bool user = type == "user_message";
      std::string content = core::fields::string_if(payload, user ? "message" : "text");
      if (bytes + content.size() > settings_.history_max_bytes) {
        full = true;
        break;
      }
      bytes += content.size();
      picked.push_back({{"role", user ? "user" : "assistant"}, {"content", std::move(content)}});
      if (static_cast<int>(picked.size()) >= settings_.history_messages) {
        full = true;
        break;
      }
    }
    if (rows.size() < kHistoryChunk) break;
    end = rows.back().key;  // the oldest of this chunk: the next chunk ends before it
  }
  json out = json::array();
  for (auto it = picked.rbegin(); it != picked.rend(); ++it) out.push_back(*it);
  co_return out;
}

Task<void> SessionService::record_idempotent(std::string session_id, std::string idem_hash,
                                             json outcome) {
  if (idem_hash.empty()) co_return;
  Txn txn;
  txn.writes.push_back(
      Write::put(keys::session_idempotency(session_id, idem_hash), outcome.dump()));
  co_await storage_.commit(std::move(txn));
}

Task<json> SessionService::send(Caller caller, std::string session_id, json body) {
  std::string message;
  {
    auto it = body.find("message");
    if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty() ||
        it->get_ref<const std::string&>().size() > kMaxMessageBytes) {
      throw api::invalid("\"message\" is required: a non-empty string of at most 256 KiB",
                         {{"field", "message"}});
    }
    message = *it;
  }
  std::string idem = string_field(body, "idempotencyKey", kMaxIdempotencyKey);
  Task<json> st = require_session(caller, session_id);
  json session = co_await std::move(st);
  // One send at a time per session: pinning and the idempotency record see each other.
  co_await lock(send_lanes_, session_id);
  LaneLock held(&send_lanes_, session_id);
  std::string idem_hash = idem.empty() ? std::string() : crypto::sha256_hex(idem);
  if (!idem_hash.empty()) {
    auto seen = co_await storage_.get(keys::session_idempotency(session_id, idem_hash));
    if (seen) {
      json first = json::parse(seen->value);
      if (first.contains("error")) {
        const json& e = first["error"];
        throw api::ApiError(e.value("code", "INTERNAL"), e.value("message", ""),
                            {{"sessionId", session_id}, {"duplicate", true}});
      }
      first["duplicate"] = true;
      co_return first;
    }
  }
  // Re-read under the lane: a send that held it may have pinned the session.
  Task<json> rt = require_session(caller, session_id);
  session = co_await std::move(rt);
  Task<json> t =
      send_locked(std::move(caller), std::move(session), std::move(message), idem_hash, idem);
  json r = co_await std::move(t);
  co_return r;
}

Task<json> SessionService::send_locked(Caller caller, json session, std::string message,
                                       std::string idem_hash, std::string idem) {
  const std::string session_id = session["id"];
  const std::string pinned =
      session["pinnedAgentId"].is_string() ? session["pinnedAgentId"].get<std::string>() : "";
  if (!pinned.empty() && !router_.online(pinned)) {
    throw api::ApiError("PINNED_AGENT_OFFLINE",
                        "the node host this session is pinned to (" + pinned +
                            ") is not connected; wait for it, or reset the session to pick "
                            "another",
                        {{"sessionId", session_id}, {"agentId", pinned}});
  }
  std::vector<EventDraft> um;
  um.push_back(
      EventDraft{"user_message", "info", {{"message", message}, {"userId", caller.who.user_id}}});
  if (!idem.empty()) um.back().payload["runId"] = idem;
  // The idempotency key is reserved in the same transaction as user_message: even after a crash
  // between here and the dispatch, a retry with the same key answers this turn, never a new one.
  TxnExtra reserve;
  if (!idem_hash.empty()) {
    reserve = [session_id, idem_hash](Txn& txn, const std::vector<json>& events) {
      const uint64_t s = events.front()["seq"];
      json pending = {{"accepted", true},   {"sessionId", session_id},
                      {"seq", s},           {"requestId", turn_request_id(session_id, s)},
                      {"agentId", nullptr}, {"duplicate", false}};
      txn.compares.push_back(Compare::absent(keys::session_idempotency(session_id, idem_hash)));
      txn.writes.push_back(
          Write::put(keys::session_idempotency(session_id, idem_hash), pending.dump()));
    };
  }
  Task<std::vector<json>> at = append_with(session_id, std::move(um), std::move(reserve));
  std::vector<json> stored = co_await std::move(at);
  const uint64_t seq = stored.front()["seq"];
  Task<json> ht = history(session_id, seq);
  json hist = co_await std::move(ht);
  {
    Task<json> tt = update(session_id, [](json& r) {
      r["lastActivityMs"] = util::now_ms();
      r["lastActivityAt"] = util::now_iso8601();
    });
    co_await std::move(tt);
  }

  dispatch::DispatchRequest req;
  req.organization_id = session["orgId"];
  // The reference agent drops an execute whose userId is not a uuid. Users' ids are; a node's
  // "node:<id>" and the local admin (no user) go as the uuid of that name.
  req.requested_by_user_id =
      caller.who.role == core::Role::Operator
          ? caller.who.user_id
          : crypto::name_uuid(caller.who.user_id.empty() ? core::role_name(caller.who.role)
                                                         : caller.who.user_id);
  // The reference's ids: "<sessionId>:agent:<user_message seq + 1>".
  req.run_id = session_id;
  req.workflow_id = session_id;
  req.node_id = kTurnNodeId;
  req.node_type = "agent.run";
  req.attempt_count = static_cast<int>(seq + 1);
  req.kind = "agent.run";
  req.payload_json =
      json_write::dump(agent_run_payload(TurnInput{session, turn_attempt_count(seq), message, hist,
                                                   settings_.github_api_base_url}),
                       json::error_handler_t::replace);
  if (pinned.empty()) {
    const json& sel = session["selector"];
    if (sel.is_object()) {
      req.selector.tag = core::fields::string_if(sel, "tag");
      req.selector.group = core::fields::string_if(sel, "group");
    }
  } else {
    req.selector.agent_id = pinned;
  }
  req.timeout_ms = settings_.turn_timeout_ms;
  const std::string request_id = req.request_id();

  const std::string run_id = idem.empty() ? request_id : idem;
  auto listener = std::make_shared<RunListener>(*this, session_id, seq, run_id);
  listener->set_request_id(request_id);
  dispatch::Dispatcher::Submitted sub;
  std::optional<api::ApiError> failure;
  try {
    Task<dispatch::Dispatcher::Submitted> dt = dispatcher_.submit(std::move(req), listener);
    sub = co_await std::move(dt);
  } catch (const api::ApiError& e) {
    failure = e;
    if (!pinned.empty() && e.code() == "NO_AGENT_AVAILABLE") {
      failure = api::ApiError("PINNED_AGENT_OFFLINE",
                              "the node host this session is pinned to (" + pinned +
                                  ") cannot take the message: " + e.what(),
                              {{"sessionId", session_id}, {"agentId", pinned}});
    }
  }
  if (failure) {
    metrics::instruments().session_turns[metrics::TurnOutcome::Unavailable].inc();
    std::vector<EventDraft> err;
    err.push_back(EventDraft{"error",
                             "error",
                             {{"code", failure->code()},
                              {"message", failure->what()},
                              {"requestId", request_id},
                              {"runId", run_id}}});
    Task<std::vector<json>> et = append(session_id, std::move(err));
    co_await std::move(et);
    json first = {{"error", {{"code", failure->code()}, {"message", failure->what()}}}};
    Task<void> it = record_idempotent(session_id, idem_hash, std::move(first));
    co_await std::move(it);
    throw *failure;
  }
  // (A host that answered at once has ended the turn already.)
  if (!listener->ended()) active_turns_[session_id] = listener;
  if (pinned.empty()) {
    const std::string agent = sub.agent_id;
    // Queued on the session's lane before any event of the host can be: agent_selected comes
    // before the turn's deltas.
    std::vector<EventDraft> sel;
    sel.push_back(EventDraft{"agent_selected", "info", {{"agentId", agent}, {"runId", run_id}}});
    Task<std::vector<json>> et = append(session_id, std::move(sel));
    co_await std::move(et);
    Task<json> pt = update(session_id, [agent](json& r) { r["pinnedAgentId"] = agent; });
    co_await std::move(pt);
    L()->info("session {} pinned to node host {}", session_id, agent);
  }
  json result = {{"accepted", true},        {"sessionId", session_id}, {"seq", seq},
                 {"requestId", request_id}, {"agentId", sub.agent_id}, {"duplicate", false}};
  Task<void> it = record_idempotent(session_id, idem_hash, result);
  co_await std::move(it);
  // Usually already so (the synced commits above came after the record's); otherwise the turn
  // is accepted only once its dispatch record is durable.
  Task<void> dt = dispatcher_.durable(sub);
  co_await std::move(dt);
  co_return result;
}

void SessionService::turn_ended(const std::string& session_id, const RunListener* listener) {
  auto it = active_turns_.find(session_id);
  if (it == active_turns_.end()) return;
  auto current = it->second.lock();
  if (current == nullptr || current.get() == listener) active_turns_.erase(it);
}

Task<json> SessionService::cancel(Caller caller, std::string session_id, std::string stop_reason,
                                  std::string only_run_id) {
  Task<json> st = require_session(caller, session_id);
  co_await std::move(st);
  auto it = active_turns_.find(session_id);
  std::shared_ptr<RunListener> turn = it == active_turns_.end() ? nullptr : it->second.lock();
  if (turn == nullptr || turn->ended()) {
    if (it != active_turns_.end()) active_turns_.erase(it);
    Task<json> rt = cancel_elsewhere(session_id, stop_reason, caller.who.user_id, only_run_id);
    json relayed = co_await std::move(rt);
    co_return relayed;
  }
  if (!only_run_id.empty() && turn->run_id() != only_run_id) {
    co_return json{{"sessionId", session_id},
                   {"cancelled", false},
                   {"requestId", nullptr},
                   {"runId", nullptr}};
  }
  const std::string request_id = turn->request_id();
  const bool host_told = dispatcher_.cancel(request_id, session_id);
  turn->cancel(stop_reason, caller.who.user_id);
  L()->info("session {}: turn {} cancelled by {} ({}){}", session_id, request_id,
            caller.who.user_id, stop_reason,
            host_told ? "" : "; its node host could not be told, it may run to the end");
  co_return json{{"sessionId", session_id},
                 {"cancelled", true},
                 {"requestId", request_id},
                 {"runId", turn->run_id()},
                 {"hostNotified", host_told}};
}

Task<std::string> SessionService::last_turn_request_id(std::string session_id) {
  constexpr uint32_t kChunk = 64;
  constexpr size_t kScanEvents = 2000;  // a turn of more deltas than this is not found
  const std::string start = keys::session_events(session_id);
  std::string end = core::StorageService::prefix_end(start);
  size_t scanned = 0;
  while (scanned < kScanEvents) {
    auto rows = co_await storage_.scan(start, end, kChunk, true);
    for (const auto& row : rows) {
      ++scanned;
      json ev = json::parse(row.value, nullptr, false);
      if (core::fields::string_if(ev, "eventType") == "user_message")
        co_return turn_request_id(session_id, core::fields::uint_if(ev, "seq"));
    }
    if (rows.size() < kChunk) break;
    end = rows.back().key;
  }
  co_return std::string();
}

Task<json> SessionService::cancel_elsewhere(std::string session_id, std::string stop_reason,
                                            std::string by, std::string only_run_id) {
  json none = {
      {"sessionId", session_id}, {"cancelled", false}, {"requestId", nullptr}, {"runId", nullptr}};
  if (!remote_cancel_) co_return none;
  Task<std::string> lt = last_turn_request_id(session_id);
  const std::string request_id = co_await std::move(lt);
  if (request_id.empty()) co_return none;
  // The dispatch record exists while the turn is outstanding and names who waits for it.
  auto record = co_await storage_.get(keys::dispatch(request_id));
  if (!record) co_return none;
  json rec = json::parse(record->value, nullptr, false);
  const std::string instance = core::fields::string_if(rec, "instance");
  const json resume = core::fields::any_if(rec, "resume");
  const std::string run_id = core::fields::string_if(resume, "runId", request_id);
  if (instance.empty() || instance == own_instance_) co_return none;
  if (!only_run_id.empty() && run_id != only_run_id) co_return none;
  remote_cancel_(instance, session_id, request_id, stop_reason, by);
  L()->info("session {}: cancel of turn {} sent to instance \"{}\", which waits for it", session_id,
            request_id, instance);
  co_return json{{"sessionId", session_id},
                 {"cancelled", true},
                 {"requestId", request_id},
                 {"runId", run_id},
                 {"relayedTo", instance}};
}

void SessionService::cancel_here(const std::string& session_id, const std::string& request_id,
                                 const std::string& stop_reason, const std::string& by) {
  auto it = active_turns_.find(session_id);
  std::shared_ptr<RunListener> turn = it == active_turns_.end() ? nullptr : it->second.lock();
  if (turn == nullptr || turn->ended() || turn->request_id() != request_id) {
    L()->info("session {}: a relayed cancel of turn {} found it ended here already", session_id,
              request_id);
    return;
  }
  const bool host_told = dispatcher_.cancel(request_id, session_id);
  turn->cancel(stop_reason, by);
  L()->info("session {}: turn {} cancelled by {} ({}, relayed){}", session_id, request_id, by,
            stop_reason, host_told ? "" : "; its node host could not be told");
}

Task<json> SessionService::reset(Caller caller, std::string session_id) {
  if (caller.who.role == core::Role::Node) throw api::forbidden("nodes cannot reset sessions");
  Task<json> st = require_session(std::move(caller), session_id);
  co_await std::move(st);
  co_await lock(send_lanes_, session_id);
  LaneLock held(&send_lanes_, session_id);
  Task<json> t = update(session_id, [](json& r) { r["pinnedAgentId"] = nullptr; });
  json r = co_await std::move(t);
  L()->info("session {} reset: unpinned", session_id);
  co_return json{{"session", session_view(r)}};
}

}  // namespace vespid::sessions
