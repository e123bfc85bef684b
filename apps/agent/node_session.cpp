#include "node_session.hpp"

namespace vespid::agent {

namespace {

using nlohmann::json;

json described(const char* type, const NodeIdentity& id) {
  json f = {{"type", type},
            {"nodeId", id.node_id},
            {"displayName", id.display_name},
            {"platform", id.platform},
            {"version", id.version},
            {"coreVersion", id.version},
            {"deviceFamily", id.device_family},
            {"modelIdentifier", id.model_identifier},
            {"caps", id.caps},
            {"commands", id.commands}};
  return f;
}

}  // namespace

json NodeSession::hello_frame() const {
  json f = described("hello", id_);
  if (!token_.empty()) f["token"] = token_;
  return f;
}

json NodeSession::pair_request_frame() const {
  return described("pair-request", id_);
}

std::vector<json> NodeSession::on_open() {
  phase_ = Phase::Hello;
  sent_token_ = !token_.empty();
  return {hello_frame()};
}

SessionStep NodeSession::on_error(const json& frame) {
  SessionStep step;
  const std::string code = frame.value("code", std::string());
  const std::string message = frame.value("message", std::string());
  const bool auth_error = code == "NOT_PAIRED" || code == "UNAUTHORIZED";
  if (auth_error && phase_ == Phase::Hello) {
    if (code == "UNAUTHORIZED" && sent_token_) {
      // A token the gateway once gave is refused: revoked, or another gateway's. Pairing again
      // on our own would put a request before the operators every time; they decide.
      step.after = SessionStep::After::Stop;
      step.message = "the gateway refused this node's token: " + message;
      return step;
    }
    // Never paired (or deleted on the gateway), or paired but the token was lost: ask.
    if (!token_.empty()) {
      token_.clear();
      step.forget_token = true;
    }
    phase_ = Phase::Pairing;
    step.pairing = true;
    step.send.push_back(pair_request_frame());
    return step;
  }
  if (auth_error && phase_ == Phase::Pairing) {
    if (message.find("expired") != std::string::npos) {
      // Nobody decided within the gateway's pairing TTL: ask again, and keep waiting.
      step.pairing = true;
      step.send.push_back(pair_request_frame());
      return step;
    }
    step.after = SessionStep::After::Stop;
    step.message = "pairing refused: " + message;
    return step;
  }
  // Anything else ends the connection, as in the reference; the link dials again.
  step.after = SessionStep::After::Reconnect;
  step.message = "the gateway reported " + (code.empty() ? std::string("an error") : code) +
                 (message.empty() ? std::string() : ": " + message);
  return step;
}

SessionStep NodeSession::on_frame(const json& frame) {
  SessionStep step;
  const std::string type = frame.value("type", std::string());
  if (type == "ping") {
    json pong = {{"type", "pong"}};
    if (const auto it = frame.find("id"); it != frame.end()) pong["id"] = *it;
    step.send.push_back(std::move(pong));
  } else if (type == "hello-ok") {
    phase_ = Phase::Authenticated;
    step.authenticated = true;
  } else if (type == "pair-ok") {
    const std::string token = frame.value("token", std::string());
    if (!token.empty()) {
      token_ = token;
      step.save_token = token;
    }
  } else if (type == "error") {
    return on_error(frame);
  } else if (type == "invoke") {
    if (phase_ == Phase::Authenticated) step.invoke = frame;
  }
  // pong, event (tick, voicewake.changed, chat), res: nothing to do here; the link logs them.
  return step;
}

}  // namespace vespid::agent
