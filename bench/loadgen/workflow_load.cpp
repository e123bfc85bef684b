#include "workflow_load.hpp"

#include "blocking_channel.hpp"

namespace vespid::bench {

using Outcome = BlockingChannel::Outcome;
using Closed = BlockingChannel::Closed;

WorkflowLoad::WorkflowLoad(IoPool& pool, const GatewayRunner& gw, std::string workflow,
                           std::string token, nlohmann::json node_input,
                           std::function<double()> more_cpu)
    : pool_(pool),
      gw_(gw),
      workflow_(std::move(workflow)),
      token_(std::move(token)),
      node_input_(std::move(node_input)),
      more_cpu_(std::move(more_cpu)) {}

std::shared_ptr<CallTally> WorkflowLoad::fresh_tally(const std::string& target) {
  std::lock_guard<std::mutex> lock(mu_);
  auto t = std::make_shared<CallTally>();
  tallies_[target] = t;
  return t;
}

CallTally WorkflowLoad::last_tally(const std::string& target) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tallies_.find(target);
  return it == tallies_.end() ? CallTally{} : *it->second;
}

Target WorkflowLoad::dispatch_target() {
  return Target{
      "dispatch", gw_.pid(),
      [this](int callers) {
        auto tally = fresh_tally("dispatch");
        std::vector<std::shared_ptr<Channel>> chs;
        for (int i = 0; i < callers; ++i) {
          auto w = std::make_shared<DispatchWaiter>(gw_.api_port(), gw_.org_id(),
                                                    gw_.internal_token(), node_input_);
          chs.push_back(BlockingChannel::make(pool_.next(), [this, w, tally](const Closed& closed) {
            const DispatchWaiter::Result r = w->dispatch_once(closed);
            std::lock_guard<std::mutex> lock(mu_);
            if (r.post_ns > 0) tally->post.record(r.post_ns);
            return Outcome{r.ok, r.code};
          }));
        }
        return chs;
      },
      more_cpu_};
}

Target WorkflowLoad::workflow_target() {
  return Target{
      "workflow", gw_.pid(),
      [this](int callers) {
        auto tally = fresh_tally("workflow");
        std::vector<std::shared_ptr<Channel>> chs;
        for (int i = 0; i < callers; ++i) {
          auto s = std::make_shared<RunStarter>(gw_.api_port(), gw_.org_id(), workflow_, token_);
          chs.push_back(BlockingChannel::make(pool_.next(), [this, s, tally](const Closed& closed) {
            const FollowedRun r = s->run_once(closed);
            if (!r.run_id.empty()) started_.fetch_add(1);
            const bool ok = r.status == "succeeded";
            std::lock_guard<std::mutex> lock(mu_);
            tally->post.record(r.post_ns);
            if (ok) {
              ++tally->runs;
              tally->events += r.events.size();
              tally->polls += static_cast<uint64_t>(r.polls);
              for (std::size_t k = 1; k < r.events.size(); ++k) {
                const std::string step = r.events[k - 1].first + " → " + r.events[k].first;
                if (!tally->gaps_ms.count(step)) tally->steps.push_back(step);
                auto& g = tally->gaps_ms[step];
                g.first += static_cast<double>(r.events[k].second - r.events[k - 1].second);
                ++g.second;
              }
            }
            return Outcome{ok, ok ? std::string() : r.status};
          }));
        }
        return chs;
      },
      more_cpu_};
}

}  // namespace vespid::bench
