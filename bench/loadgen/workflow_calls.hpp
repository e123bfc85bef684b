// The HTTP conversations of the `workflow` scenario, blocking, each on its caller's own
// keep-alive connection: a workflow run started and followed to its end as a user does it
// (rest.v1), and a bare dispatch with its result long-polled as vespid-worker does it (the internal
// routes). Both are what one load request is; setup (an admin, a published workflow) and the
// end-of-run count are here too.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway_runner.hpp"
#include "http_lite.hpp"

namespace vespid::bench {

// An admin of the gateway's org (made unless an earlier run on the state directory made it)
// and a fresh access token for it: owners and admins write and publish workflows.
std::string admin_token(const GatewayRunner& gw, const std::string& user);

// Creates a workflow from `dsl`, publishes it and returns its id; throws with the gateway's
// answer when either is refused.
std::string create_published_workflow(int api_port, const std::string& org,
                                      const std::string& token, const std::string& name,
                                      const nlohmann::json& dsl);

// A random version-4 uuid (run ids of the bare dispatches, the node's secretId).
std::string random_uuid();

// What one workflow run looked like to the user who started it.
struct FollowedRun {
  std::string run_id;    // empty when the start was refused
  std::string status;    // the last event's verdict: succeeded, failed, canceled; else the error
  uint64_t post_ns = 0;  // POST .../runs until its 201
  int polls = 0;         // events long-polls it took to see the verdict
  // Every event of the run: its type and createdAt (ms since the epoch, the gateway's clock).
  std::vector<std::pair<std::string, int64_t>> events;
};

// Starts runs of one workflow and follows each with the events long-poll.
class RunStarter {
 public:
  RunStarter(int api_port, std::string org, std::string workflow, std::string token);
  // Follows until the run's verdict, or until `closed` (looked at between long-polls).
  FollowedRun run_once(const std::function<bool()>& closed);

 private:
  HttpPipe pipe_;
  std::string base_;  // /v1/orgs/<org>/workflows/<wf>/runs
  std::vector<std::string> headers_;
};

// Posts dispatch-async with the body vespid-worker would post for the bench's connector.action
// node, then long-polls GET /internal/v1/results/:id until the result is there.
class DispatchWaiter {
 public:
  // `input` is the node's config.input, sent in the payload as the worker sends it.
  DispatchWaiter(int api_port, std::string org, std::string internal_token, nlohmann::json input);
  struct Result {
    bool ok = false;
    std::string code;  // when not ok: the refusal's code, or the result's status
    uint64_t post_ns = 0;
  };
  // Long-polls until the result is there, or until `closed` (looked at between polls).
  Result dispatch_once(const std::function<bool()>& closed);

 private:
  HttpPipe pipe_;
  std::string org_;
  std::vector<std::string> headers_;
  nlohmann::json input_;
};

// Every run of the workflow, counted by status (listed 200 at a time).
std::map<std::string, uint64_t> count_runs(int api_port, const std::string& org,
                                           const std::string& workflow, const std::string& token);

// "2026-12-04T16:22:10.123Z" as ms since the epoch; 0 when it is not that shape.
int64_t iso8601_ms(const std::string& text);

}  // namespace vespid::bench
