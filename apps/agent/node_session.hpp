// One bridge.v1 connection of a node, as the reference node does it (clawdbot
// src/node-host/bridge-client.ts), without the I/O: what to send when the socket opens, and what
// each frame from the gateway asks for. `hello` with the saved token; NOT_PAIRED, or UNAUTHORIZED
// without a token, is answered with `pair-request` on the same socket; `pair-ok` brings the
// token to save, `hello-ok` the session. Where the reference pairs again after any UNAUTHORIZED,
// this node stops when the gateway refuses a token it holds (revoked, or a token of another
// gateway) or an operator rejects it: a headless node must not flood the operators' pending list.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vespid::agent {

// What the node says about itself in hello and pair-request.
struct NodeIdentity {
  std::string node_id, display_name, platform, version, device_family, model_identifier;
  std::vector<std::string> caps, commands;
};

struct SessionStep {
  enum class After { Continue, Reconnect, Stop };
  std::vector<nlohmann::json> send;       // frames to write, in order
  std::optional<std::string> save_token;  // pair-ok: keep this token (and use it from now on)
  bool forget_token = false;              // the gateway no longer knows the saved token
  bool authenticated = false;             // hello-ok arrived
  bool pairing = false;                   // a pair-request was just sent: tell the operator
  std::optional<nlohmann::json> invoke;   // an invoke to run
  After after = After::Continue;
  std::string message;  // Reconnect/Stop: why (for the log)
};

class NodeSession {
 public:
  NodeSession(NodeIdentity identity, std::string token)
      : id_(std::move(identity)), token_(std::move(token)) {}

  // The socket is open (TLS verified): the first frame.
  std::vector<nlohmann::json> on_open();
  SessionStep on_frame(const nlohmann::json& frame);

  bool authenticated() const { return phase_ == Phase::Authenticated; }
  bool has_token() const { return !token_.empty(); }

  nlohmann::json hello_frame() const;
  nlohmann::json pair_request_frame() const;

 private:
  enum class Phase { Hello, Pairing, Authenticated };
  SessionStep on_error(const nlohmann::json& frame);

  NodeIdentity id_;
  std::string token_;
  Phase phase_ = Phase::Hello;
  bool sent_token_ = false;  // the hello of this connection carried a token
};

}  // namespace vespid::agent
