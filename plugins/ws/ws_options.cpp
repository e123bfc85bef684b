#include "ws_options.hpp"

#include <chrono>

namespace vespid::ws {

namespace websocket = beast::websocket;

websocket::stream_base::timeout server_timeouts(const Config& cfg) {
  websocket::stream_base::timeout opt{};
  opt.handshake_timeout = std::chrono::milliseconds(cfg.handshake_timeout_ms);  // 101 and close
  if (cfg.ping_interval_ms > 0) {
    // A ping after half the idle timeout without input, the end after the whole: a ping after
    // one quiet interval, the end after two.
    opt.idle_timeout = std::chrono::milliseconds(2 * cfg.ping_interval_ms);
    opt.keep_alive_pings = true;
  } else {
    opt.idle_timeout = websocket::stream_base::none();
    opt.keep_alive_pings = false;
  }
  return opt;
}

void apply_server_options(websocket::stream<Stream>& ws, const Config& cfg) {
  ws.set_option(server_timeouts(cfg));
  ws.auto_fragment(false);
  if (cfg.permessage_deflate) {
    websocket::permessage_deflate pmd;
    pmd.server_enable = true;
    ws.set_option(pmd);
  }
}

void apply_server_options(FrameStream& ws, const Config& cfg) {
  ws.set_option(server_timeouts(cfg));
}

}  // namespace vespid::ws
