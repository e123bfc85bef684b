// The nats bus's face to the host: lifecycle and the bus table (vespid/bus.h) over NatsBus, and
// the module declaration.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vespid/plugin.hpp>

#include "config.hpp"
#include "nats_bus.hpp"

namespace vespid::natsbus {
namespace {

class NatsBusPlugin {
 public:
  // Parses the config and prepares libnats's options; connects to nothing (start does).
  static std::unique_ptr<NatsBusPlugin> create(vsp::Host host, std::string_view config_json) {
    return std::make_unique<NatsBusPlugin>(host, parse_config(config_json, host.state_dir()));
  }
  NatsBusPlugin(vsp::Host host, Config cfg) : bus_(host, std::move(cfg)) {}

  void start() { bus_.start(); }
  void stop(std::function<void()> done) {
    bus_.stop();
    done();
  }

  int publish(std::string_view subject, std::string_view reply_to, std::string_view data) {
    bus_.publish(subject, reply_to, data);
    return VSP_OK;
  }
  int subscribe(const char* pattern, const char* group, vsp_bus_msg_fn fn, void* ctx,
                uint64_t* handle) {
    *handle = bus_.subscribe(pattern, group, fn, ctx);
    return VSP_OK;
  }
  void unsubscribe(uint64_t handle) { bus_.unsubscribe(handle); }
  int request(std::string_view subject, std::string_view data, uint32_t timeout_ms,
              vsp_bus_reply_fn fn, void* ctx) {
    bus_.request(subject, data, timeout_ms, fn, ctx);
    return VSP_OK;
  }
  void set_state_callback(vsp_bus_state_fn fn, void* ctx) { bus_.set_state_callback(fn, ctx); }
  bool is_up() const { return bus_.is_up(); }

 private:
  NatsBus bus_;
};

}  // namespace
}  // namespace vespid::natsbus

VSP_DECLARE_MODULE("vespid-nats", "0.1.0",
                   vsp::bus_plugin<vespid::natsbus::NatsBusPlugin>(
                       "nats", "Message bus over NATS servers (libnats): gateways of one system"))
