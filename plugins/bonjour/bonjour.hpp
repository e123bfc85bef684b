// The Bonjour discovery instance: publishes the gateway's service records through avahi-daemon
// (libavahi-client over D-Bus), on the host's loop (host_poll.hpp).
//
// It outlives the daemon: a missing avahi-daemon is a warning and the records go out once it
// appears; when the daemon restarts, the client is rebuilt and every record registered again.
// A name collision picks Avahi's next alternative name ("Name #2") and logs it.
#pragma once

#include <avahi-client/client.h>
#include <avahi-client/publish.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include <vespid/plugin.hpp>

#include "host_poll.hpp"
#include "published_service.hpp"

namespace vespid::bonjour {

// reconnect_ms: retry when no client could be made (no D-Bus at all).
using Config = dnssd::PublisherConfig;
Config parse_config(std::string_view json);

class BonjourDiscovery {
 public:
  static std::unique_ptr<BonjourDiscovery> create(vsp::Host host, std::string_view config_json);
  BonjourDiscovery(vsp::Host host, Config cfg);
  ~BonjourDiscovery();

  void start();
  void stop(std::function<void()> done);
  int publish(const vsp_service_record& record, uint64_t* handle);
  void withdraw(uint64_t handle);

 private:
  struct Entry : dnssd::PublishedService {
    BonjourDiscovery* owner = nullptr;
    AvahiEntryGroup* group = nullptr;
  };

  void connect();
  void drop_client();
  void on_client(AvahiClient* c, AvahiClientState state);
  void on_group(Entry& e, AvahiEntryGroup* g, AvahiEntryGroupState state);
  void register_entry(Entry& e);
  void register_all();
  void reset_all();
  std::string error_text() const;

  vsp::Host host_;
  Config cfg_;
  HostPoll poll_;
  AvahiClient* client_ = nullptr;
  bool running_ = false;         // the daemon's server is RUNNING: groups may be committed
  bool warned_waiting_ = false;  // one warning per outage, not one per retry
  dnssd::ServiceTable<Entry> entries_;
  std::unique_ptr<vsp::Timer> reconnect_;
};

}  // namespace vespid::bonjour
