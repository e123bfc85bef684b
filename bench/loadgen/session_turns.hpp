// Session turns as a load target, for `storage-compare`: one vespid.client.v1 control client per
// session, each sending one message at a time; a request is answered when its turn's
// agent_final reaches the client (stored, then fanned out), so its latency is the whole turn:
// user_message stored, dispatched to a node host, the host's deltas, message and final stored.
// The node hosts (WsFleet with set_turn_deltas) answer every turn at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "baselines.hpp"
#include "gateway_runner.hpp"
#include "io_pool.hpp"
#include "session_client.hpp"

namespace vespid::bench {

class SessionTurns {
 public:
  // Creates `sessions` sessions (engine vespid.echo.v1) as a member of the gateway's org.
  SessionTurns(IoPool& pool, const GatewayRunner& gw, int sessions);

  // open(callers) joins the first `callers` sessions, one client each, where the previous
  // run's clients stopped.
  Target target(std::string name);

  // Over the clients of the last open(), after the load: events they received and turns that
  // ended while they waited for one (events per turn = events / turns).
  struct Counts {
    uint64_t events = 0;
    uint64_t turns = 0;
    uint64_t gaps = 0;  // seq gaps or repeats a client saw (never expected)
  };
  Counts last_counts();

 private:
  IoPool& pool_;
  const GatewayRunner& gw_;
  ClientLogin login_;
  std::vector<std::string> sids_;
  std::vector<uint64_t> last_seen_;  // per session: the last seq a client of it saw
  std::vector<std::shared_ptr<SessionSender>> open_;
  int opened_ = 0;
};

}  // namespace vespid::bench
