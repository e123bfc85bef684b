// The local bus's face to the host: lifecycle and the bus table (vespid/bus.h) over LocalBus,
// and the module declaration.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vespid/plugin.hpp>

#include "config.hpp"
#include "local_bus.hpp"

namespace vespid::localbus {
namespace {

class LocalBusPlugin {
 public:
  static std::unique_ptr<LocalBusPlugin> create(vsp::Host host, std::string_view config_json) {
    return std::unique_ptr<LocalBusPlugin>(new LocalBusPlugin(host, parse_config(config_json)));
  }

  void start() {
    bus_.start();
    host_.info("local bus: in-process (max_payload_bytes " +
               std::to_string(cfg_.max_payload_bytes) + ", max_queued_bytes " +
               std::to_string(cfg_.max_queued_bytes) + ")");
  }
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
  // In-process, the bus is up exactly while it runs: there is no connection to lose, so the
  // state callback is never called.
  void set_state_callback(vsp_bus_state_fn, void*) {}
  bool is_up() const { return bus_.running(); }

 private:
  LocalBusPlugin(vsp::Host host, Config cfg) : host_(host), cfg_(cfg), bus_(cfg) {}

  const vsp::Host host_;
  const Config cfg_;
  LocalBus bus_;
};

}  // namespace
}  // namespace vespid::localbus

VSP_DECLARE_MODULE("vespid-localbus", "0.1.0",
                   vsp::bus_plugin<vespid::localbus::LocalBusPlugin>(
                       "local", "In-process message bus for a gateway that runs alone"))
