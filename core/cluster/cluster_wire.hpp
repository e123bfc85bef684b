// What gateway instances say to each other over the bus: the subjects, and how a connected
// node is described on them.
//
// Everything here may be lost: presence is re-derived from heartbeats and full syncs, session
// events are re-read from storage, and a lost invoke reply ends in the caller's timeout. Payloads
// are JSON except the invoke reply, which carries the node's answer as text unchanged.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "services/nodes/node_router.hpp"

namespace vespid::cluster {

struct ClusterSettings {
  // This instance's name on the bus: stable across restarts (a dispatch record names the
  // instance that waits for it). Letters, digits, '-' and '_' only: it is a subject token.
  std::string instance_id;
  // The first token of every subject, so that several deployments can share one bus.
  std::string subject_prefix = "vespid";
  // How often an instance says it is alive, and how long others wait after its last word before
  // they treat its nodes as gone and fail the invokes it holds (cluster.heartbeat_ms,
  // cluster.lease_ms).
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds lease{5000};
};

// Whether `token` may be one subject token (and so an instance id).
bool is_subject_token(std::string_view token);

class Subjects {
 public:
  explicit Subjects(std::string prefix) : p_(std::move(prefix)) {}
  std::string heartbeat() const { return p_ + ".cluster.hb"; }
  std::string presence() const { return p_ + ".cluster.presence"; }
  std::string goodbye() const { return p_ + ".cluster.bye"; }
  std::string sync(std::string_view instance) const { return inst(instance, "sync"); }
  std::string invoke(std::string_view instance) const { return inst(instance, "invoke"); }
  // Frames for its node hosts, disconnects, tag, capability and command changes: one subject, so
  // that one sender's frame and a later disconnect arrive in that order.
  std::string control(std::string_view instance) const { return inst(instance, "ctl"); }
  std::string credentials() const { return p_ + ".cred"; }
  std::string pairing() const { return p_ + ".pair"; }
  std::string voicewake() const { return p_ + ".voicewake"; }
  std::string session_events() const { return p_ + ".sess"; }
  std::string dispatch() const { return p_ + ".dispatch"; }
  // A cancel for a session turn another instance waits for (the message names that instance).
  std::string turn_cancel() const { return p_ + ".turn-cancel"; }

 private:
  std::string inst(std::string_view instance, const char* what) const {
    return p_ + ".inst." + std::string(instance) + "." + what;
  }
  std::string p_;
};

// A connected node as other instances see it (no link: they reach it through its instance).
nlohmann::json node_to_wire(const nodes::ConnectedNode& node);
// Throws nlohmann::json::exception on a malformed description.
nodes::ConnectedNode node_from_wire(const nlohmann::json& j);

// The invoke reply: "O" + the node's answer as JSON text, or "E" + code + "\n" + message.
std::string invoke_reply_to_wire(const nodes::InvokeResult& r);
nodes::InvokeResult invoke_reply_from_wire(std::string_view data);

int64_t wall_clock_ms();

}  // namespace vespid::cluster
