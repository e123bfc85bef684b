#include "session_turns.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "http_lite.hpp"
#include "scenario_common.hpp"

namespace vespid::bench {

using nlohmann::json;

SessionTurns::SessionTurns(IoPool& pool, const GatewayRunner& gw, int sessions)
    : pool_(pool), gw_(gw) {
  login_ = {gw.ws_port(), member_token(gw, "bench-sessions"), gw.org_id()};
  std::string path = "/v1/orgs/";
  path += gw.org_id();
  path += "/sessions";
  for (int i = 0; i < sessions; ++i) {
    const std::string body =
        json{{"title", "bench " + std::to_string(i)}, {"engine", "vespid.echo.v1"}}.dump();
    HttpResponse r = http_call(
        gw.api_port(), "POST", path,
        {"Authorization: Bearer " + login_.token, "Content-Type: application/json"}, body);
    if (r.status != 201) {
      throw std::runtime_error("creating a session answered " + std::to_string(r.status) + " " +
                               r.body);
    }
    sids_.push_back(json::parse(r.body)["session"]["id"]);
  }
  last_seen_.assign(sids_.size(), 0);
}

Target SessionTurns::target(std::string name) {
  return Target{std::move(name), gw_.pid(), [this](int callers) {
                  if (callers > static_cast<int>(sids_.size())) {
                    throw std::runtime_error("more session callers than sessions");
                  }
                  open_.clear();
                  std::vector<std::shared_ptr<Channel>> chs;
                  for (int i = 0; i < callers; ++i) {
                    std::string tag = "o";
                    tag += std::to_string(opened_);
                    tag += 's';
                    tag += std::to_string(i);
                    auto s = std::make_shared<SessionSender>(pool_.next(), login_, sids_[i],
                                                             last_seen_[i], tag);
                    s->reply_at_turn_end();
                    s->open_blocking();
                    open_.push_back(s);
                    chs.push_back(s);
                  }
                  ++opened_;
                  return chs;
                }};
}

SessionTurns::Counts SessionTurns::last_counts() {
  Counts c;
  for (std::size_t i = 0; i < open_.size(); ++i) {
    auto& s = open_[i];
    on_thread(s->io(), [&] {
      c.events += s->track.events;
      c.turns += s->turns_ended;
      c.gaps += s->track.gaps + s->track.repeats;
      last_seen_[i] = s->track.last;
    });
  }
  return c;
}

}  // namespace vespid::bench
