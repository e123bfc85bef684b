// The bridge connections of this gateway that finished their handshake, by org: who hears the
// gateway's own events. The reference pushes `tick` and `voicewake.changed` to connected nodes
// without being asked; the router knows nodes by id for invokes, this knows sockets for events.
//
// Thread: the Sequencer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace vespid::core {

class Connection;

class AuthenticatedNodes {
 public:
  void add(const std::shared_ptr<Connection>& conn, const std::string& org_id);
  void remove(uint64_t connection_id);
  bool empty() const noexcept { return orgs_.empty(); }

  // `frame` to every connection, or to the connections of one org. A connection that is closing
  // or whose transport refuses the line (over its send queue: the transport drops it) is skipped
  // and forgotten; the event is a hint that the next one repeats, never worth buffering for.
  void send_to_all(const std::string& frame);
  void send_to_org(const std::string& org_id, const std::string& frame);

 private:
  using Members = std::unordered_map<uint64_t, std::weak_ptr<Connection>>;
  void send_to(Members& members, const std::string& frame);

  std::unordered_map<std::string, Members> orgs_;     // org id -> its authenticated connections
  std::unordered_map<uint64_t, std::string> org_of_;  // connection id -> its org
};

}  // namespace vespid::core
