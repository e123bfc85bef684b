// The dnssd discovery instance's publishing half: the gateway's service records registered with
// DNSServiceRegister, one DNSServiceRef per record, driven on the host's loop (service_ref.hpp).
// Written against dns_sd.h alone, so it builds on macOS against mDNSResponder and on Linux
// against Avahi's compatibility library (libdns_sd), which talks to avahi-daemon.
//
// Like the bonjour plugin it outlives the daemon: an unreachable daemon is a warning and every
// record is registered again once it answers (retried with backoff up to reconnect_ms); a name
// taken on this host is replaced by the next name ("Name #2") and registered again; a rename the
// daemon made on a network collision is adopted and logged.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vespid/plugin.hpp>

#include "published_service.hpp"
#include "service_ref.hpp"

namespace vespid::dnssd {

class Publisher {
 public:
  Publisher(vsp::Host host, PublisherConfig cfg);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  void start();
  // Withdraws every record (deallocating a registration withdraws it).
  void stop();
  void publish(const vsp_service_record& record, uint64_t* handle);
  void withdraw(uint64_t handle);

 private:
  struct Entry : PublishedService {
    Publisher* owner = nullptr;
    ServiceRef ref;
    bool pending = true;     // to be (re-)registered by the next pass
    bool announced = false;  // "published" logged for the current registration
  };

  void register_entry(Entry& e);
  void on_reply(Entry& e, DNSServiceErrorType err, const char* name);
  void lost(Entry& e, DNSServiceErrorType err);
  void schedule(uint64_t delay_ms);
  void pass();

  vsp::Host host_;
  PublisherConfig cfg_;
  ServiceTable<Entry> entries_;
  std::unique_ptr<vsp::Timer> pass_;  // registrations run here, never inside a dns_sd callback
  bool started_ = false;
  bool warned_ = false;    // one warning per outage
  uint64_t retry_ms_ = 0;  // the next retry's delay while the daemon does not answer
};

}  // namespace vespid::dnssd
