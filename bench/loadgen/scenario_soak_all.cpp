// `soak-all`: everything the gateway does, at once, for a long time, over real sockets on
// loopback, to show that nothing grows without bound and that nothing it acknowledged is lost.
//
// Each round runs, concurrently:
//  - operators calling nodes.invoke on bridge nodes over fresh admin-socket connections (paced);
//  - a worker dispatching over fresh keep-alive HTTP connections (POST
//    /internal/v1/dispatch-async, paced) to /ws node hosts that answer at once;
//  - control clients on /ws/client, one per session, each joining its session where the
//    previous round's client stopped and sending messages (session_send); the node hosts answer
//    every turn with deltas, the whole message, the final and the result;
//  - two slow consumers on one busy session (a different one each round), both joining a
//    quarter of the way into the round with afterSeq 0 on a small receive buffer: one reads
//    nothing for --stall s, the other reads a little at a time until the round ends; then both
//    read everything.
// Then the round is quiesced (every dispatch and turn answered), every reader must have seen
// every event of its session up to the stored last seq, once and in order; the clients close,
// every bridge node and node host drops and reconnects, and after --settle s of quiet the
// gateway's RSS and open fds are read: the same point of every cycle.
//
// At the end everything acknowledged is read back: each dispatch answered 201 has its result
// (GET /internal/v1/results/:id), each turn's result likewise, and each session_send answered
// session_accepted has its user_message, with its text, at the acknowledged seq in the stored
// events (GET .../events pages, which must also be gap-free). The run fails on any mismatch, on
// any reader that missed or repeated an event, on errors or lost requests, and when the
// gateway's fds grew beyond --fd-tolerance over the rounds.
#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cmath>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "baselines.hpp"
#include "channels.hpp"
#include "clock.hpp"
#include "dispatch_channel.hpp"
#include "http_lite.hpp"
#include "operator_client.hpp"
#include "scenario_common.hpp"
#include "session_client.hpp"

namespace vespid::bench {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

void sleep_s(double s) {
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(s * 1000)));
}

struct Sample {
  double t_s = 0;  // since the soak started
  uint64_t rss_kib = 0;
  int fds = 0;
  int threads = 0;
};

Sample sample(pid_t pid, uint64_t t0) {
  const ProcStats st = read_proc_stats(pid);
  return {(now_ns() - t0) / 1e9, st.rss_kib, count_open_fds(pid), st.threads};
}

// Least-squares slope of y over x, per minute of x (seconds).
double slope_per_minute(const std::vector<std::pair<double, double>>& pts) {
  if (pts.size() < 2) return 0;
  double sx = 0, sy = 0;
  for (const auto& [x, y] : pts) {
    sx += x;
    sy += y;
  }
  const double n = static_cast<double>(pts.size()), mx = sx / n, my = sy / n;
  double num = 0, den = 0;
  for (const auto& [x, y] : pts) {
    num += (x - mx) * (y - my);
    den += (x - mx) * (x - mx);
  }
  return den > 0 ? num / den * 60 : 0;
}

// first/last/min/max of one figure over the series, and its slope over the second half.
json series_summary(const std::vector<Sample>& s, double (*value)(const Sample&)) {
  json out = json::object();
  if (s.empty()) return out;
  double lo = value(s.front()), hi = lo;
  for (const auto& x : s) {
    lo = std::min(lo, value(x));
    hi = std::max(hi, value(x));
  }
  std::vector<std::pair<double, double>> half;
  for (std::size_t i = s.size() / 2; i < s.size(); ++i) half.emplace_back(s[i].t_s, value(s[i]));
  out["first"] = value(s.front());
  out["last"] = value(s.back());
  out["min"] = lo;
  out["max"] = hi;
  out["growth"] = value(s.back()) - value(s.front());
  out["slopePerMinSecondHalf"] = slope_per_minute(half);
  out["samplesInSecondHalf"] = half.size();
  return out;
}

double rss_of(const Sample& s) {
  return static_cast<double>(s.rss_kib);
}
double fds_of(const Sample& s) {
  return static_cast<double>(s.fds);
}

// Adds one round's load result into the run's total for that workload.
void accumulate(LoadResult& total, const LoadResult& r, std::map<std::string, uint64_t>& codes) {
  total.latency.merge(r.latency);
  total.sent += r.sent;
  total.ok += r.ok;
  total.errors += r.errors;
  total.lost += r.lost;
  total.completed_in_window += r.completed_in_window;
  total.window_s += r.window_s;
  for (const auto& [c, n] : r.error_codes) codes[c] += n;
}

json load_json(const LoadResult& r) {
  json codes = json::object();
  for (const auto& [c, n] : r.error_codes) codes[c] = n;
  return {{"sent", r.sent}, {"ok", r.ok},          {"errors", r.errors},
          {"lost", r.lost}, {"errorCodes", codes}, {"p99Us", r.latency.percentile(99) / 1000.0}};
}

// The REST view of a session, as a member reads it.
class SessionReader {
 public:
  SessionReader(int api_port, std::string org, std::string token)
      : pipe_(api_port), org_(std::move(org)), bearer_("Authorization: Bearer " + token) {}

  // Every stored event with seq > after, oldest first (pages of 200, about 1 MiB at most).
  std::vector<json> events(const std::string& sid, uint64_t after) {
    std::vector<json> all;
    for (;;) {
      std::string path = "/v1/orgs/";
      path += org_;
      path += "/sessions/";
      path += sid;
      path += "/events?limit=200&afterSeq=";
      path += std::to_string(after);
      HttpResponse r = pipe_.call(http_request("GET", path, {bearer_}, {}));
      if (r.status != 200) {
        throw std::runtime_error("GET events of " + sid + " answered " + std::to_string(r.status) +
                                 " " + r.body);
      }
      json page = json::parse(r.body);
      for (auto& ev : page["events"]) all.push_back(std::move(ev));
      if (!page["nextCursor"].is_number_unsigned()) return all;
      after = page["nextCursor"].get<uint64_t>();
    }
  }

  // The last stored seq, knowing that it is at least `at_least`.
  uint64_t last_seq(const std::string& sid, uint64_t at_least) {
    uint64_t last = at_least;
    for (const auto& ev : events(sid, at_least)) last = std::max(last, ev["seq"].get<uint64_t>());
    return last;
  }

  // Closes the keep-alive connection (so that it is not open at one reading and not another).
  void disconnect() { pipe_.close(); }

  std::string create(const std::string& title) {
    std::string path = "/v1/orgs/";
    path += org_;
    path += "/sessions";
    const std::string body = json{{"title", title}, {"engine", "vespid.echo.v1"}}.dump();
    HttpResponse r =
        pipe_.call(http_request("POST", path, {bearer_, "Content-Type: application/json"}, body));
    if (r.status != 201) {
      throw std::runtime_error("creating a session answered " + std::to_string(r.status) + " " +
                               r.body);
    }
    return json::parse(r.body)["session"]["id"];
  }

 private:
  HttpPipe pipe_;
  std::string org_;
  std::string bearer_;
};

// How a reader ended its round.
json reader_json(const SeqTrack& t, uint64_t target) {
  json j = {{"events", t.events},
            {"lastSeq", t.last},
            {"target", target},
            {"gaps", t.gaps},
            {"repeats", t.repeats}};
  if (!t.first_anomaly.empty()) j["firstAnomaly"] = t.first_anomaly;
  return j;
}

bool reader_ok(const SeqTrack& t, uint64_t target) {
  return t.clean() && t.last >= target;
}

// The read-back of everything acknowledged, at the end.
struct Verification {
  uint64_t checked = 0;
  uint64_t found = 0;
  // A stored NODE_EXECUTION_TIMEOUT for work no host result was acknowledged for: the
  // documented end of a dispatch whose host never answered, not a loss.
  uint64_t timed_out = 0;
  uint64_t missing = 0;
  std::vector<std::string> examples;  // the first few missing, with what was found instead

  void miss(const std::string& what) {
    ++missing;
    if (examples.size() < 10) examples.push_back(what);
  }
  json to_json() const {
    return {{"checked", checked},
            {"found", found},
            {"timedOut", timed_out},
            {"missing", missing},
            {"examples", examples}};
  }
};

// GET /internal/v1/results/:id for each id: the host's result, or the gateway's timeout result
// when the host's result was never acknowledged (`acked` holds the ids whose execute_ack a host
// got: their result must be the host's, which is never replaced).
Verification verify_results(int api_port, const std::string& internal_token,
                            const std::vector<std::string>& ids,
                            const std::unordered_set<std::string>& acked) {
  Verification v;
  HttpPipe pipe(api_port);
  const std::string header = "x-gateway-token: " + internal_token;
  constexpr std::size_t kChunk = 2048;
  for (std::size_t first = 0; first < ids.size(); first += kChunk) {
    std::vector<std::string> reqs;
    const std::size_t last = std::min(ids.size(), first + kChunk);
    for (std::size_t i = first; i < last; ++i) {
      std::string path = "/internal/v1/results/";
      path += ids[i];
      reqs.push_back(http_request("GET", path, {header}, {}));
    }
    auto answers = pipe.run(reqs, 64);
    for (std::size_t i = first; i < last; ++i) {
      const HttpResponse& r = answers[i - first];
      ++v.checked;
      std::string status;
      std::string error;
      if (r.status == 200) {
        json body = json::parse(r.body, nullptr, false);
        if (body.is_object()) {
          status = body.value("status", "");
          if (body.contains("error") && body["error"].is_string()) error = body["error"];
        }
      }
      if (status == "succeeded") {
        ++v.found;
      } else if (status == "failed" && error.starts_with("NODE_EXECUTION_TIMEOUT") &&
                 !acked.contains(ids[i])) {
        ++v.timed_out;
      } else {
        std::string what = ids[i];
        what += ": ";
        what += std::to_string(r.status);
        what += ' ';
        what += r.body.substr(0, 200);
        v.miss(what);
      }
    }
  }
  return v;
}

}  // namespace

int run_soak_all(const CommonOptions& c, const SoakAllOptions& o) {
  raise_nofile(2 * (o.nodes + o.hosts) + 4096);
  IoPool pool(c.threads);
  Report report("soak-all");
  json setup = setup_facts(c);
  setup["nodes"] = o.nodes;
  setup["callers"] = o.callers;
  setup["inFlight"] = o.in_flight;
  setup["rate"] = o.rate;
  setup["hosts"] = o.hosts;
  setup["dispatchRate"] = o.dispatch_rate;
  setup["dispatchConns"] = o.dispatch_conns;
  setup["dispatchInFlight"] = o.dispatch_in_flight;
  setup["sessions"] = o.sessions;
  setup["turnRate"] = o.turn_rate;
  setup["turnDeltas"] = o.turn_deltas;
  setup["roundS"] = o.round_s;
  setup["stallS"] = o.stall_s;
  setup["settleS"] = o.settle_s;
  setup["fdTolerance"] = o.fd_tolerance;
  report.set("setup", setup);

  // Results must outlive the run to be read back at its end (the default keeps them 15 min).
  GatewayOptions gopts = c.gateway;
  const double run_s = c.warmup_s + c.duration_s;
  const int64_t ttl_ms =
      std::clamp<int64_t>(static_cast<int64_t>((run_s + 3600) * 1000), 900000, 604800000);
  // Work a host never answers (one the gateway dropped mid-round) reaches its documented end,
  // a stored NODE_EXECUTION_TIMEOUT, within the run: 30 s instead of 60 s (dispatch) and 300 s
  // (session turn).
  constexpr int kTimeoutMs = 30000;
  gopts.config_patch = {
      {"dispatch", {{"results_ttl_ms", ttl_ms}, {"default_timeout_ms", kTimeoutMs}}},
      {"sessions", {{"turn_timeout_ms", kTimeoutMs}}}};
  if (gopts.attach) note("--attach: the running gateway must keep dispatch results for the run");
  GatewayRunner gw(gopts);
  gw.start();
  const pid_t pid = gw.pid();

  // A member of the org, for the sessions (control clients act as users).
  std::string user_token;
  {
    auto admin = cli::OperatorClient::connect(gw.socket_path());
    try {
      admin.call("users.create",
                 {{"name", "bench-soak"}, {"org", gw.org_id()}, {"role", "member"}});
    } catch (const cli::OperatorError& e) {
      if (e.code != "CONFLICT") throw;  // made by an earlier run on this state directory
    }
    user_token =
        admin.call("tokens.create", {{"user", "bench-soak"}, {"name", "soak-all"}})["token"];
  }
  const ClientLogin login{gw.ws_port(), user_token, gw.org_id()};
  SessionReader rest(gw.api_port(), gw.org_id(), user_token);
  std::vector<std::string> sids;
  const auto stamp = std::chrono::system_clock::now().time_since_epoch().count();
  for (int i = 0; i < o.sessions; ++i) sids.push_back(rest.create("soak " + std::to_string(i)));

  auto bridge_creds = ensure_bridge_creds(gw, pool, o.nodes);
  auto host_creds = ensure_ws_creds(gw, o.hosts);
  // Acks of results reach the hosts' threads: a session turn's requestId is
  // "<sessionId>:agent:<n>"; every other one is a dispatch of the current round's router.
  std::atomic<DispatchRouter*> current{nullptr};
  std::atomic<uint64_t> turn_acks{0};
  std::mutex acked_mu;
  std::unordered_set<std::string> acked;  // every requestId a host got execute_ack for
  std::vector<std::unique_ptr<DispatchRouter>> routers;
  WsFleet hosts(pool, gw.ws_port());
  hosts.set_turn_deltas(o.turn_deltas);
  hosts.on_ack([&](std::string_view id) {
    {
      std::lock_guard lock(acked_mu);
      acked.emplace(id);
    }
    if (id.find(":agent:") != std::string_view::npos) {
      turn_acks.fetch_add(1);
    } else if (auto* r = current.load()) {
      r->ack(id);
    }
  });
  BridgeFleet bridge(pool, gw.bridge_port());
  connect_or_throw(bridge, bridge_creds);
  connect_or_throw(hosts, host_creds);

  auto names = std::make_shared<std::vector<std::string>>();
  for (const auto& n : bridge_creds) names->push_back(n.id);
  const std::string payload = make_payload(c.size);
  Target invoke_target = gateway_invoke_target(pool, pid, gw.socket_path(), names, payload);

  const uint64_t t0 = now_ns();
  const Sample start = sample(pid, t0);
  report.add_process("gateway", "started (idle)", read_proc_stats(pid));

  std::vector<uint64_t> last_seen(sids.size(), 0);  // per session: where its client stopped
  std::vector<std::string> dispatch_ids;            // answered 201
  std::vector<AcceptedSend> sends;                  // answered session_accepted
  uint64_t expected_turns = 0;
  LoadResult inv_total, dis_total, ses_total;
  std::map<std::string, uint64_t> inv_codes, dis_codes, ses_codes;
  std::vector<Sample> series;
  json rounds = json::array();
  std::vector<std::string> failures;
  uint64_t reader_failures = 0, slow_closes = 0, hosts_dropped_before = 0;

  // One round of everything; `index` 0 is the warm-up. Returns the round's row.
  auto round = [&](int index, double length) {
    const std::string tag = "r" + std::to_string(index);
    // Fresh connections of every kind.
    auto inv_ch = invoke_target.open(o.callers);
    std::string nonce = "soak";
    nonce += std::to_string(stamp);
    nonce += tag;
    routers.push_back(std::make_unique<DispatchRouter>(nonce));
    DispatchRouter* router = routers.back().get();
    std::vector<std::shared_ptr<Channel>> dis_ch;
    for (int i = 0; i < o.dispatch_conns; ++i) {
      auto conn = connect_blocking(pool.next(), tcp_endpoint("127.0.0.1", gw.api_port()), "API");
      dis_ch.push_back(router->add(conn, gw.org_id(), gw.internal_token(), payload));
    }
    current.store(router);
    std::vector<std::shared_ptr<SessionSender>> senders;
    std::vector<std::shared_ptr<Channel>> ses_ch;
    for (std::size_t s = 0; s < sids.size(); ++s) {
      std::string stag = tag;
      stag += 's';
      stag += std::to_string(s);
      auto snd = std::make_shared<SessionSender>(pool.next(), login, sids[s], last_seen[s], stag);
      snd->open_blocking();
      senders.push_back(snd);
      ses_ch.push_back(snd);
    }
    const std::size_t busy = static_cast<std::size_t>(index) % sids.size();
    std::vector<std::shared_ptr<SlowReader>> slow = {
        std::make_shared<SlowReader>(pool.next(), login, sids[busy], SlowReader::Mode::Stall,
                                     std::min(o.stall_s, length * 3 / 4)),
        std::make_shared<SlowReader>(pool.next(), login, sids[busy], SlowReader::Mode::Trickle, 0)};

    // The three loads at once, each paced, for `length` seconds. The slow consumers join a
    // quarter of the way in, when their session is busy with this round's turns.
    LoadResult inv, dis, ses;
    std::thread ti([&] { inv = run_load(inv_ch, LoadSpec{o.in_flight, o.rate, 0, length}, 10); });
    std::thread td([&] {
      dis = run_load(dis_ch, LoadSpec{o.dispatch_in_flight, o.dispatch_rate, 0, length}, 30);
    });
    std::thread ts([&] { ses = run_load(ses_ch, LoadSpec{4, o.turn_rate, 0, length}, 30); });
    sleep_s(length / 4);
    for (auto& sr : slow) sr->start();
    sleep_s(length / 4);
    const Sample loaded = sample(pid, t0);
    ti.join();
    td.join();
    ts.join();
    for (auto& ch : inv_ch) ch->close();

    // Quiesce: every turn the gateway took has its result acknowledged.
    for (auto& snd : senders) {
      expected_turns += on_thread(snd->io(), [&] {
        return static_cast<uint64_t>(
            std::count_if(snd->accepted.begin(), snd->accepted.end(),
                          [](const AcceptedSend& a) { return a.dispatched; }));
      });
    }
    // (A turn on a host the gateway dropped is never acknowledged; its timeout ends it.)
    const uint64_t quiesce_deadline = now_ns() + (kTimeoutMs + 5000) * 1'000'000ull;
    while (turn_acks.load() < expected_turns && now_ns() < quiesce_deadline) sleep_s(0.02);
    const uint64_t turns_unacked =
        turn_acks.load() < expected_turns ? expected_turns - turn_acks.load() : 0;
    sleep_s(0.5);  // a turn's last events are stored just after its result

    // Every reader must reach the stored last seq of its session, every event once, in order.
    std::vector<uint64_t> target(sids.size(), 0);
    for (std::size_t s = 0; s < sids.size(); ++s) {
      const uint64_t seen = on_thread(senders[s]->io(), [&] { return senders[s]->track.last; });
      target[s] = rest.last_seq(sids[s], seen);
    }
    for (auto& sr : slow) sr->catch_up();
    const uint64_t reach_deadline = now_ns() + 180'000'000'000ull;
    auto sender_last = [&](std::size_t s) {
      return on_thread(senders[s]->io(), [&] { return senders[s]->track.last; });
    };
    auto slow_last = [&](const std::shared_ptr<SlowReader>& sr) {
      return on_thread(sr->io(), [&] { return sr->track.last; });
    };
    for (;;) {
      bool all = true;
      for (std::size_t s = 0; s < sids.size() && all; ++s) all = sender_last(s) >= target[s];
      for (std::size_t k = 0; k < slow.size() && all; ++k) all = slow_last(slow[k]) >= target[busy];
      if (all || now_ns() >= reach_deadline) break;
      sleep_s(0.05);
    }
    const double caught_up_s = (now_ns() - t0) / 1e9;

    // The round's readers, then close every client connection of the round.
    json readers = json::array();
    bool readers_ok = true;
    for (std::size_t s = 0; s < sids.size(); ++s) {
      auto& snd = senders[s];
      snd->close();
      json j = on_thread(snd->io(), [&] {
        json r = reader_json(snd->track, target[s]);
        r["reader"] = "sender";
        r["session"] = s;
        r["duplicates"] = snd->duplicates;
        r["strayErrors"] = snd->stray_errors;
        if (snd->closed_by_peer) r["closedByGateway"] = snd->close_reason;
        readers_ok = readers_ok && reader_ok(snd->track, target[s]) && snd->duplicates == 0;
        last_seen[s] = snd->track.last;
        sends.insert(sends.end(), snd->accepted.begin(), snd->accepted.end());
        return r;
      });
      if (j.contains("firstAnomaly") || j["lastSeq"] < j["target"] || j["duplicates"] != 0) {
        readers.push_back(j);  // only the ones worth a look
      }
    }
    json slow_rows = json::array();
    for (auto& sr : slow) {
      sr->stop();
      slow_rows.push_back(on_thread(sr->io(), [&] {
        json r = reader_json(sr->track, target[busy]);
        r["reader"] = sr->mode() == SlowReader::Mode::Stall ? "stalled" : "trickle";
        r["joins"] = sr->joins;
        r["replayedOnFirstJoin"] = sr->replayed_first;
        r["closedByGateway"] = sr->closes;
        if (!sr->close_reasons.empty()) r["closeReasons"] = sr->close_reasons;
        readers_ok = readers_ok && reader_ok(sr->track, target[busy]);
        slow_closes += sr->closes;
        return r;
      }));
    }
    for (auto& ch : dis_ch) ch->close();
    const auto ids = router->accepted_ids();
    dispatch_ids.insert(dispatch_ids.end(), ids.begin(), ids.end());
    if (!readers_ok) ++reader_failures;

    uint64_t dropped_now = 0;
    json drop_reasons = json::object();
    for (const auto& [why, n] : hosts.dropped_by_gateway()) {
      dropped_now += n;
      drop_reasons[why] = n;
    }
    const uint64_t hosts_dropped = dropped_now - hosts_dropped_before;
    hosts_dropped_before = dropped_now;

    // Churn: every bridge node and every node host drops and reconnects.
    bridge.close_all();
    connect_or_throw(bridge, bridge_creds);
    hosts.close_all();
    connect_or_throw(hosts, host_creds);

    // The reading of the cycle: idle, the same connections open every time.
    rest.disconnect();
    sleep_s(o.settle_s);
    const Sample idle = sample(pid, t0);
    accumulate(inv_total, inv, inv_codes);
    accumulate(dis_total, dis, dis_codes);
    accumulate(ses_total, ses, ses_codes);
    json row = {{"round", index},
                {"tS", idle.t_s},
                {"rssKiB", idle.rss_kib},
                {"fds", idle.fds},
                {"threads", idle.threads},
                {"loadedRssKiB", loaded.rss_kib},
                {"loadedFds", loaded.fds},
                {"invokes", load_json(inv)},
                {"dispatches", load_json(dis)},
                {"dispatch201", ids.size()},
                {"sessionSends", load_json(ses)},
                {"turnsUnacked", turns_unacked},
                {"sessionEvents", target},
                {"busySession", busy},
                {"slowConsumers", slow_rows},
                {"caughtUpAtS", caught_up_s}};
    if (!readers.empty()) row["readerTrouble"] = readers;
    if (hosts_dropped > 0) {
      row["hostsDroppedByGateway"] = hosts_dropped;
      row["hostDropReasonsSoFar"] = drop_reasons;
    }
    uint64_t closed = 0;
    for (const auto& r : slow_rows) closed += r["closedByGateway"].get<uint64_t>();
    std::string line = "round ";
    line += std::to_string(index);
    line += ": RSS " + std::to_string(idle.rss_kib) + " KiB, fds " + std::to_string(idle.fds);
    line += " (loaded " + std::to_string(loaded.rss_kib) + " KiB, " + std::to_string(loaded.fds) +
            " fds); ok/sent: invokes " + std::to_string(inv.ok) + "/" + std::to_string(inv.sent) +
            ", dispatches " + std::to_string(dis.ok) + "/" + std::to_string(dis.sent) + ", sends " +
            std::to_string(ses.ok) + "/" + std::to_string(ses.sent) + "; busy session at seq " +
            std::to_string(target[busy]) + ", slow consumers closed " + std::to_string(closed);
    if (!readers_ok) line += "; READER TROUBLE";
    note(line);
    return std::make_pair(idle, row);
  };

  if (c.warmup_s > 0) {
    note("warm-up round of " + std::to_string(c.warmup_s) + " s");
    rounds.push_back(round(0, c.warmup_s).second);
    report.add_process("gateway", "after the warm-up round", read_proc_stats(pid));
  }
  const int n_rounds = std::max(1, static_cast<int>(std::ceil(c.duration_s / o.round_s)));
  for (int r = 1; r <= n_rounds; ++r) {
    const double length = std::min(o.round_s, c.duration_s - (r - 1) * o.round_s);
    auto [reading, row] = round(r, std::max(1.0, length));
    series.push_back(reading);
    rounds.push_back(std::move(row));
  }
  report.add_process("gateway", "after the last round", read_proc_stats(pid));

  // Work still outstanding (a host that was dropped never answered it) ends in a stored timeout
  // result: wait for those deadlines before reading back.
  const uint64_t outstanding =
      (dispatch_ids.size() > dis_total.ok ? dispatch_ids.size() - dis_total.ok : 0) +
      (expected_turns > turn_acks.load() ? expected_turns - turn_acks.load() : 0);
  if (outstanding > 0) {
    note(std::to_string(outstanding) + " dispatches or turns unanswered: waiting " +
         std::to_string(kTimeoutMs / 1000 + 5) + " s for their timeouts");
    sleep_s(kTimeoutMs / 1000.0 + 5);
  }
  current.store(nullptr);
  std::unordered_set<std::string> acked_ids;
  {
    std::lock_guard lock(acked_mu);
    acked_ids = acked;
  }

  // Everything acknowledged, read back.
  note("reading back " + std::to_string(dispatch_ids.size()) + " dispatch results, " +
       std::to_string(sends.size()) + " session sends");
  const Verification dis_v =
      verify_results(gw.api_port(), gw.internal_token(), dispatch_ids, acked_ids);
  std::vector<std::string> turn_ids;
  for (const auto& a : sends) {
    if (a.dispatched && !a.request_id.empty()) turn_ids.push_back(a.request_id);
  }
  const Verification turn_v =
      verify_results(gw.api_port(), gw.internal_token(), turn_ids, acked_ids);
  Verification send_v;
  json per_session = json::array();
  {
    std::map<std::string, std::vector<const AcceptedSend*>> by_session;
    for (const auto& a : sends) by_session[a.session_id].push_back(&a);
    for (std::size_t s = 0; s < sids.size(); ++s) {
      const auto events = rest.events(sids[s], 0);
      std::map<uint64_t, const json*> at;
      SeqTrack order;
      uint64_t user_messages = 0, finals = 0, errors = 0;
      for (const auto& ev : events) {
        const uint64_t seq = ev["seq"];
        order.see(seq);
        at[seq] = &ev;
        const std::string type = ev.value("eventType", "");
        if (type == "user_message") ++user_messages;
        if (type == "agent_final") ++finals;
        if (type == "error") ++errors;
      }
      const auto& mine = by_session[sids[s]];
      for (const AcceptedSend* a : mine) {
        ++send_v.checked;
        auto it = at.find(a->seq);
        const json* ev = it == at.end() ? nullptr : it->second;
        if (ev && ev->value("eventType", "") == "user_message" && (*ev)["payload"].is_object() &&
            (*ev)["payload"].value("message", "") == a->message) {
          ++send_v.found;
        } else {
          std::string what = sids[s];
          what += " seq ";
          what += std::to_string(a->seq);
          what += " \"";
          what += a->message;
          what += "\": ";
          what += ev ? ev->dump().substr(0, 200) : std::string("no event at that seq");
          send_v.miss(what);
        }
      }
      per_session.push_back({{"session", sids[s]},
                             {"events", events.size()},
                             {"lastSeq", order.last},
                             {"gaps", order.gaps},
                             {"repeats", order.repeats},
                             {"userMessages", user_messages},
                             {"acknowledgedSends", mine.size()},
                             {"agentFinals", finals},
                             {"errorEvents", errors}});
      if (!order.clean()) {
        std::string what = sids[s];
        what += " stored events: ";
        what += order.first_anomaly;
        send_v.miss(what);
      }
    }
  }
  const uint64_t mismatches = dis_v.missing + turn_v.missing + send_v.missing;

  // The series: one reading per round at the same point of the cycle.
  const json rss = series_summary(series, rss_of);
  const json fds = series_summary(series, fds_of);
  const double fd_growth = series.empty() ? 0 : fds["growth"].get<double>();

  if (mismatches > 0)
    failures.push_back(std::to_string(mismatches) + " acknowledged writes missing");
  if (fd_growth > o.fd_tolerance) {
    failures.push_back("the gateway's open fds grew by " +
                       std::to_string(static_cast<int>(fd_growth)) + " (tolerance " +
                       std::to_string(o.fd_tolerance) + ")");
  }
  if (reader_failures > 0) {
    failures.push_back(std::to_string(reader_failures) +
                       " rounds where a reader missed, repeated or did not reach events");
  }

  auto add_total = [&](const std::string& name, LoadResult& t,
                       const std::map<std::string, uint64_t>& codes, int callers,
                       const LoadSpec& spec) {
    for (const auto& [k, n] : codes) t.error_codes.emplace_back(k, n);
    report.add_load("soak", name, spec, callers, t, std::nan(""), 0);
    if (t.errors + t.lost > 0) {
      failures.push_back(name + ": " + std::to_string(t.errors) + " errors, " +
                         std::to_string(t.lost) + " lost");
    }
  };
  add_total("invoke", inv_total, inv_codes, o.callers, LoadSpec{o.in_flight, o.rate, 0, 0});
  add_total("dispatch", dis_total, dis_codes, o.dispatch_conns,
            LoadSpec{o.dispatch_in_flight, o.dispatch_rate, 0, 0});
  add_total("send", ses_total, ses_codes, o.sessions, LoadSpec{4, o.turn_rate, 0, 0});
  report.add_figure("rounds (after the warm-up)", static_cast<double>(series.size()), "");
  report.add_figure("node reconnects (bridge + /ws, all rounds)",
                    static_cast<double>(rounds.size()) * (o.nodes + o.hosts), "");
  report.add_figure("executes answered by the node hosts", static_cast<double>(hosts.executes()),
                    "");
  report.add_figure("session turns answered", static_cast<double>(hosts.turns()), "");
  report.add_figure("node hosts dropped by the gateway mid-round",
                    static_cast<double>(hosts_dropped_before), "");
  report.add_figure("slow consumers closed by the gateway (rejoined)",
                    static_cast<double>(slow_closes), "");
  report.add_figure("gateway RSS idle at start", static_cast<double>(start.rss_kib), "KiB");
  report.add_figure("gateway fds idle at start", start.fds, "");
  if (!series.empty()) {
    report.add_figure("gateway RSS per round: first", rss["first"], "KiB");
    report.add_figure("gateway RSS per round: last", rss["last"], "KiB");
    report.add_figure("gateway RSS per round: max", rss["max"], "KiB");
    report.add_figure("gateway RSS slope, second half", rss["slopePerMinSecondHalf"], "KiB/min");
    report.add_figure("gateway fds per round: first", fds["first"], "");
    report.add_figure("gateway fds per round: last", fds["last"], "");
    report.add_figure("gateway fds per round: max", fds["max"], "");
    report.add_figure("gateway fds slope, second half", fds["slopePerMinSecondHalf"], "/min");
  }
  auto add_verification = [&](const std::string& what, const Verification& v) {
    report.add_figure(what + ": acknowledged", static_cast<double>(v.checked), "");
    report.add_figure(what + ": found", static_cast<double>(v.found), "");
    if (v.timed_out > 0) {
      report.add_figure(what + ": stored as NODE_EXECUTION_TIMEOUT",
                        static_cast<double>(v.timed_out), "");
    }
    report.add_figure(what + ": missing", static_cast<double>(v.missing), "");
  };
  add_verification("dispatch results", dis_v);
  add_verification("session turn results", turn_v);
  add_verification("session sends (user_message at its seq)", send_v);
  report.add_figure("mismatches (acknowledged writes missing)", static_cast<double>(mismatches),
                    "");
  report.set("rss", rss);
  report.set("fds", fds);
  report.set("verification", {{"dispatchResults", dis_v.to_json()},
                              {"turnResults", turn_v.to_json()},
                              {"sessionSends", send_v.to_json()},
                              {"sessions", per_session},
                              {"mismatches", mismatches}});
  report.set("rounds", rounds);
  report.set("failures", failures);

  bridge.close_all();
  hosts.close_all();
  pool.stop();
  gw.stop();
  return finish(report, c, !failures.empty());
}

}  // namespace vespid::bench
