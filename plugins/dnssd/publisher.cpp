#include "publisher.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "txt_record.hpp"

namespace vespid::dnssd {

namespace {

constexpr int kMaxCollisionRetries = 20;
constexpr uint64_t kFirstRetryMs = 250;  // a restarted daemon is usually back within a second

// Errors that retrying cannot fix: the record itself is wrong for this daemon. Anything else
// from DNSServiceRegister is taken as "the daemon cannot be reached now" (the Avahi layer says
// kDNSServiceErr_Unknown for a missing avahi-daemon or system bus, mDNSResponder's client
// kDNSServiceErr_ServiceNotRunning, which Avahi's header does not define).
bool permanent(DNSServiceErrorType err) {
  switch (err) {
    case kDNSServiceErr_BadParam:
    case kDNSServiceErr_BadFlags:
    case kDNSServiceErr_Invalid:
    case kDNSServiceErr_Unsupported:
    case kDNSServiceErr_BadInterfaceIndex:
      return true;
    default:
      return false;
  }
}

std::string code(DNSServiceErrorType err) {
  return "dns_sd error " + std::to_string(err);
}

}  // namespace

Publisher::Publisher(vsp::Host host, PublisherConfig cfg) : host_(host), cfg_(cfg) {}

Publisher::~Publisher() {
  stop();
}

void Publisher::start() {
  pass_ = std::make_unique<vsp::Timer>(host_, [this] { pass(); });
  started_ = true;
  pass();
}

void Publisher::stop() {
  started_ = false;
  for (auto& [h, e] : entries_) {
    e->ref.reset();
    e->pending = true;
  }
  pass_.reset();
}

void Publisher::publish(const vsp_service_record& record, uint64_t* handle) {
  Entry& e = entries_.put(record, handle, "dnssd");
  e.owner = this;
  e.pending = true;
  // During an outage the retry pass registers it with the others.
  if (started_ && !warned_) pass();
}

void Publisher::withdraw(uint64_t handle) {
  entries_.take(handle);  // the entry's ServiceRef deallocates: the record is withdrawn
}

void Publisher::schedule(uint64_t delay_ms) {
  if (pass_) pass_->arm(delay_ms);
}

void Publisher::pass() {
  if (!started_) return;
  for (auto& [h, e] : entries_) {
    if (!e->pending) continue;
    register_entry(*e);
    if (e->pending) break;  // the daemon does not answer: the rest wait for the retry
  }
}

void Publisher::register_entry(Entry& e) {
  e.ref.reset();  // a re-registration replaces the old one (and withdraws it first)
  e.pending = false;
  e.announced = false;
  std::unique_ptr<TxtRecord> txt;
  try {
    txt = std::make_unique<TxtRecord>(e.txt);
  } catch (const vsp::Error& x) {
    host_.warn("cannot publish " + e.type + " \"" + e.name + "\": " + x.what());
    return;
  }
  DNSServiceRegisterReply reply = [](DNSServiceRef, DNSServiceFlags, DNSServiceErrorType err,
                                     const char* name, const char*, const char*, void* ctx) {
    auto* entry = static_cast<Entry*>(ctx);
    entry->owner->on_reply(*entry, err, name);
  };
  DNSServiceRef ref = nullptr;
  DNSServiceErrorType err = kDNSServiceErr_NameConflict;
  for (int i = 0; i < kMaxCollisionRetries && err == kDNSServiceErr_NameConflict; ++i) {
    // Flags 0: the Avahi layer refuses every flag; on mDNSResponder it means "rename on a
    // conflict", which on_reply adopts. Any interface, the daemon's default domain and host.
    err = DNSServiceRegister(&ref, 0, kDNSServiceInterfaceIndexAny, e.name.c_str(), e.type.c_str(),
                             e.domain.empty() ? nullptr : e.domain.c_str(),
                             e.host.empty() ? nullptr : e.host.c_str(), htons(e.port), txt->size(),
                             txt->bytes(), reply, &e);
    if (err == kDNSServiceErr_NameConflict) {
      std::string next = alternative_name(e.name);
      host_.warn("service name \"" + e.name + "\" (" + e.type + ") is taken locally; using \"" +
                 next + "\"");
      e.name = next;
    }
  }
  if (err == kDNSServiceErr_NoError) {
    try {
      e.ref.attach(host_, ref, [this, &e](DNSServiceErrorType dead) { lost(e, dead); });
      return;
    } catch (const vsp::Error& x) {
      host_.warn("cannot publish " + e.type + " \"" + e.name + "\": " + x.what());
      return;
    }
  }
  if (permanent(err)) {
    host_.warn("cannot publish " + e.type + " \"" + e.name + "\": " + code(err));
    return;
  }
  e.pending = true;
  retry_ms_ = retry_ms_ == 0 ? kFirstRetryMs : std::min<uint64_t>(retry_ms_ * 2, cfg_.reconnect_ms);
  if (!warned_) {
    warned_ = true;
    host_.warn("cannot reach the mDNS daemon through dns_sd (" + code(err) +
               "); nothing is published on the LAN until it can; retrying, at most every " +
               std::to_string(cfg_.reconnect_ms) + " ms");
  }
  schedule(retry_ms_);
}

void Publisher::on_reply(Entry& e, DNSServiceErrorType err, const char* name) {
  if (err == kDNSServiceErr_NoError) {
    if (warned_) host_.info("the mDNS daemon is available; publishing");
    warned_ = false;
    retry_ms_ = 0;
    if (name != nullptr && e.name != name) {
      // The daemon renamed the service after a collision on the network (both mDNSResponder and
      // the Avahi layer do that for a service registered without NoAutoRename).
      host_.warn("service name \"" + e.name + "\" (" + e.type +
                 ") collides on the network; renamed to \"" + name + "\"");
      e.name = name;
      e.announced = false;
    }
    if (!e.announced) {
      e.announced = true;
      host_.info("published " + e.type + " \"" + e.name + "\" on port " + std::to_string(e.port));
    }
    return;
  }
  if (err == kDNSServiceErr_NameConflict) {
    // A collision the daemon did not resolve itself: take the next name and register again,
    // from the timer (this runs inside the registration's own callback).
    std::string next = alternative_name(e.name);
    host_.warn("service name \"" + e.name + "\" (" + e.type +
               ") collides on the network; renamed to \"" + next + "\"");
    e.name = next;
    e.pending = true;
    schedule(0);
    return;
  }
  lost(e, err);
}

void Publisher::lost(Entry& e, DNSServiceErrorType err) {
  if (!warned_) {
    warned_ = true;
    host_.warn("lost the mDNS daemon (" + code(err) + "); registering again when it is back");
  }
  e.pending = true;
  schedule(std::max(kFirstRetryMs, retry_ms_));
}

}  // namespace vespid::dnssd
