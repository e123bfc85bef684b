#include "session_stream.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "output.hpp"
#include "random_id.hpp"

namespace vespid::cli {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// What one turn has seen so far; it survives a reconnect.
struct Turn {
  long long accepted_seq = -1;  // the user_message's seq, once session_accepted said it
  long long last_seq = 0;       // the newest event printed (a rejoin replays from here)
  bool streamed = false;        // deltas were printed
  bool resent = false;          // the send went out again after a reconnect
  std::vector<json> early;      // events that came before session_accepted
};

// Prints one event of this turn; true when the turn ended (agent_final); throws on its error.
bool handle_event(Context& ctx, Turn& turn, const json& m) {
  const long long seq = m.value("seq", 0LL);
  if (seq <= turn.accepted_seq || seq <= turn.last_seq) return false;  // earlier, or seen
  turn.last_seq = seq;
  const std::string ev = m.value("eventType", "");
  const json& payload = m["payload"];
  if (ctx.json()) std::cout << m.dump() << std::endl;
  if (ev == "agent_selected" && !ctx.json()) {
    std::cerr << "(pinned to node host " << payload.value("agentId", "?") << ")\n";
  } else if (ev == "agent_delta" && !ctx.json()) {
    std::cout << payload.value("text", "") << std::flush;
    turn.streamed = true;
  } else if (ev == "agent_final") {
    if (!ctx.json()) {
      if (!turn.streamed) std::cout << payload.value("text", "");
      std::cout << std::endl;
    }
    return true;
  } else if (ev == "error") {
    if (turn.streamed && !ctx.json()) std::cout << std::endl;
    throw OperatorError(payload.value("code", "ERROR"), payload.value("message", ""), json());
  }
  return false;
}

enum class Outcome { Done, Dropped };

// One connection's part of the turn: join (replaying what came after the last event printed),
// send unless the gateway already accepted the message, then read until agent_final, a drop or
// the deadline.
Outcome stream_on(Context& ctx, web::WsClient& ws, const std::string& url, const SendOptions& o,
                  const std::string& key, Turn& turn, Clock::time_point deadline,
                  std::string* dropped_why) {
  ws.send({{"type", "session_join"},
           {"sessionId", o.session},
           {"afterSeq", std::max(turn.last_seq, turn.accepted_seq)}});
  if (turn.accepted_seq < 0) {
    ws.send({{"type", "session_send"},
             {"sessionId", o.session},
             {"message", o.message},
             {"idempotencyKey", key}});
  }
  while (Clock::now() < deadline) {
    auto m = ws.read(std::chrono::seconds(1));
    if (!m) {
      if (ws.closed()) {
        *dropped_why = url + " closed the connection: " + ws.close_reason();
        return Outcome::Dropped;
      }
      continue;
    }
    const std::string type = m->value("type", "");
    if (type == "session_error") {
      throw OperatorError(m->value("code", "ERROR"), m->value("message", ""), json());
    }
    if (type == "session_accepted") {
      if (turn.accepted_seq >= 0) continue;  // a rejoin's answer to a send already accepted
      turn.accepted_seq = m->value("seq", -1LL);
      if (m->value("duplicate", false) && !turn.resent && !ctx.json())
        std::cerr << "(already sent with this idempotency key; not run again)\n";
      std::vector<json> held = std::move(turn.early);
      turn.early.clear();
      for (const auto& e : held) {
        if (handle_event(ctx, turn, e)) return Outcome::Done;
      }
      continue;
    }
    if (type != "session_event" || m->value("sessionId", "") != o.session) continue;
    if (turn.accepted_seq < 0) {
      turn.early.push_back(*m);
    } else if (handle_event(ctx, turn, *m)) {
      return Outcome::Done;
    }
  }
  throw ConnectionError("no agent_final within " + std::to_string(o.timeout_s) + " s");
}

}  // namespace

void send_and_stream(Context& ctx, const Remote& r, const SendOptions& o) {
  require_identity(r);
  const auto urls = url_list(r.gateway, "--gateway");
  // Every send carries an idempotency key, so that sending again after a dropped connection (the
  // first send may or may not have been stored) cannot run the turn twice.
  const std::string key = o.idempotency_key.empty() ? random_id("cli-send-") : o.idempotency_key;
  const auto deadline = Clock::now() + std::chrono::seconds(o.timeout_s);
  Turn turn;
  std::size_t next = 0;
  bool ever_connected = false;
  std::string why;
  while (Clock::now() < deadline) {
    std::string url;
    auto ws = open_control_socket(r, urls, &next, &url, &why);
    if (!ws) {
      // Never reached: say so now. Reached before: the turn goes on at the node host, so keep
      // trying (a second between rounds) until one of the gateways is back or time is up.
      if (!ever_connected) {
        throw ConnectionError(
            "cannot reach " + why +
            unreachable_hint("--gateway", "VESPID_GATEWAY", "/ws/client WebSocket"));
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    if (ever_connected && !ctx.json()) std::cerr << "(going on via " << url << ")\n";
    if (ever_connected) turn.resent = turn.accepted_seq < 0;
    ever_connected = true;
    std::string dropped;
    if (stream_on(ctx, *ws, url, o, key, turn, deadline, &dropped) == Outcome::Done) return;
    if (urls.size() == 1) throw ConnectionError("the gateway closed the connection: " + dropped);
    if (!ctx.json()) std::cerr << "\n(" << dropped << ")\n";
  }
  throw ConnectionError("no agent_final within " + std::to_string(o.timeout_s) + " s" +
                        (why.empty() ? "" : " (last: " + why + ")"));
}

}  // namespace vespid::cli
