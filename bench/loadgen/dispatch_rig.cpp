#include "dispatch_rig.hpp"

#include <chrono>

#include "channels.hpp"

namespace vespid::bench {

DispatchRig::DispatchRig(IoPool& pool, const GatewayRunner& gw, std::string payload)
    : DispatchRig(pool, DispatchEndpoint{gw.api_port(), gw.org_id(), gw.internal_token(), gw.pid()},
                  std::move(payload)) {}

DispatchRig::DispatchRig(IoPool& pool, DispatchEndpoint to, std::string payload)
    : pool_(pool),
      to_(std::move(to)),
      payload_(std::move(payload)),
      stamp_(std::to_string(std::chrono::system_clock::now().time_since_epoch().count())) {}

void DispatchRig::ack(std::string_view request_id) {
  if (auto* r = current_.load()) r->ack(request_id);
}

Target DispatchRig::target(std::string name) {
  return Target{std::move(name),
                to_.pid,
                [this](int callers) {
                  std::string nonce = "b";  // appended, not "b" + ...: GCC 12 -Wrestrict
                  nonce += stamp_;
                  nonce += 'r';
                  nonce += std::to_string(routers_.size());
                  routers_.push_back(std::make_unique<DispatchRouter>(nonce));
                  auto* r = routers_.back().get();
                  std::vector<std::shared_ptr<Channel>> chs;
                  for (int i = 0; i < callers; ++i) {
                    auto conn = connect_blocking(pool_.next(),
                                                 tcp_endpoint("127.0.0.1", to_.api_port), "API");
                    chs.push_back(r->add(conn, to_.org, to_.token, payload_));
                  }
                  current_.store(r);
                  return chs;
                },
                {},
                [port = to_.api_port] { return read_serial_busy(port); }};
}

}  // namespace vespid::bench
