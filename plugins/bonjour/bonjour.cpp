#include "bonjour.hpp"

#include <avahi-common/error.h>
#include <avahi-common/strlst.h>

namespace vespid::bonjour {

namespace {

constexpr int kMaxCollisionRetries = 20;

}  // namespace

Config parse_config(std::string_view json) {
  return dnssd::parse_publisher_config(json, "bonjour");
}

std::unique_ptr<BonjourDiscovery> BonjourDiscovery::create(vsp::Host host,
                                                           std::string_view config_json) {
  return std::make_unique<BonjourDiscovery>(host, parse_config(config_json));
}

BonjourDiscovery::BonjourDiscovery(vsp::Host host, Config cfg)
    : host_(host), cfg_(cfg), poll_(host) {}

BonjourDiscovery::~BonjourDiscovery() {
  drop_client();
  reconnect_.reset();
}

void BonjourDiscovery::start() {
  // Deferred work (rebuilding the client) runs from this timer, never inside Avahi's callback.
  reconnect_ = std::make_unique<vsp::Timer>(host_, [this] {
    drop_client();
    connect();
  });
  connect();
}

void BonjourDiscovery::stop(std::function<void()> done) {
  drop_client();  // frees every entry group: the records are withdrawn
  reconnect_.reset();
  done();
}

std::string BonjourDiscovery::error_text() const {
  return client_ ? avahi_strerror(avahi_client_errno(client_)) : "no client";
}

void BonjourDiscovery::connect() {
  int error = 0;
  // NO_FAIL: when avahi-daemon is not there yet the client waits for it (CONNECTING) instead of
  // failing, and it notices the daemon appear on the bus.
  AvahiClient* c = avahi_client_new(
      poll_.poll(), AVAHI_CLIENT_NO_FAIL,
      [](AvahiClient* cl, AvahiClientState state, void* self) {
        static_cast<BonjourDiscovery*>(self)->on_client(cl, state);
      },
      this, &error);
  if (c == nullptr) {
    if (!warned_waiting_) {
      warned_waiting_ = true;
      host_.warn(std::string("cannot reach avahi-daemon over D-Bus (") + avahi_strerror(error) +
                 "); nothing is published on the LAN until it can; retrying every " +
                 std::to_string(cfg_.reconnect_ms) + " ms");
    }
    reconnect_->arm(cfg_.reconnect_ms);
    return;
  }
  client_ = c;
}

void BonjourDiscovery::drop_client() {
  for (auto& [h, e] : entries_) e->group = nullptr;  // freed with the client
  running_ = false;
  if (client_ != nullptr) {
    avahi_client_free(client_);
    client_ = nullptr;
  }
}

void BonjourDiscovery::on_client(AvahiClient* c, AvahiClientState state) {
  client_ = c;  // the first callback may come before avahi_client_new returns
  switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
      if (warned_waiting_) host_.info("avahi-daemon is available; publishing");
      warned_waiting_ = false;
      running_ = true;
      register_all();
      break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
      // The host name changed or collided: withdraw, and register again once RUNNING.
      running_ = false;
      reset_all();
      break;
    case AVAHI_CLIENT_CONNECTING:
      if (!warned_waiting_) {
        warned_waiting_ = true;
        host_.warn("avahi-daemon is not running; its records go out when it starts");
      }
      break;
    case AVAHI_CLIENT_FAILURE: {
      running_ = false;
      const int err = avahi_client_errno(c);
      if (!warned_waiting_) {
        warned_waiting_ = true;
        host_.warn(std::string("lost avahi-daemon (") + avahi_strerror(err) +
                   "); registering again when it is back");
      }
      // The client cannot be reused; it is rebuilt (waiting for the daemon) outside this
      // callback. A disconnect is retried at once, anything else after reconnect_ms.
      reconnect_->arm(err == AVAHI_ERR_DISCONNECTED ? 0 : cfg_.reconnect_ms);
      break;
    }
  }
}

void BonjourDiscovery::register_all() {
  for (auto& [h, e] : entries_) register_entry(*e);
}

void BonjourDiscovery::reset_all() {
  for (auto& [h, e] : entries_) {
    if (e->group) avahi_entry_group_reset(e->group);
  }
}

void BonjourDiscovery::register_entry(Entry& e) {
  if (client_ == nullptr || !running_) return;  // registered when the daemon is RUNNING
  if (e.group == nullptr) {
    e.group = avahi_entry_group_new(
        client_,
        [](AvahiEntryGroup* g, AvahiEntryGroupState state, void* ctx) {
          auto* entry = static_cast<Entry*>(ctx);
          entry->owner->on_group(*entry, g, state);
        },
        &e);
    if (e.group == nullptr) {
      host_.warn("cannot create an Avahi entry group for " + e.type + ": " + error_text());
      return;
    }
  } else {
    avahi_entry_group_reset(e.group);
  }
  AvahiStringList* txt = nullptr;
  for (const auto& kv : e.txt) txt = avahi_string_list_add(txt, kv.c_str());
  txt = avahi_string_list_reverse(txt);  // add prepends; keep the core's order
  int rc = AVAHI_ERR_COLLISION;
  for (int i = 0; i < kMaxCollisionRetries && rc == AVAHI_ERR_COLLISION; ++i) {
    rc = avahi_entry_group_add_service_strlst(
        e.group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, static_cast<AvahiPublishFlags>(0),
        e.name.c_str(), e.type.c_str(), e.domain.empty() ? nullptr : e.domain.c_str(),
        e.host.empty() ? nullptr : e.host.c_str(), e.port, txt);
    if (rc == AVAHI_ERR_COLLISION) {
      std::string next = dnssd::alternative_name(e.name);
      host_.warn("service name \"" + e.name + "\" (" + e.type + ") is taken locally; using \"" +
                 next + "\"");
      e.name = next;
    }
  }
  avahi_string_list_free(txt);
  if (rc == AVAHI_OK) rc = avahi_entry_group_commit(e.group);
  if (rc != AVAHI_OK) {
    host_.warn("cannot publish " + e.type + " \"" + e.name + "\": " + avahi_strerror(rc));
  }
}

void BonjourDiscovery::on_group(Entry& e, AvahiEntryGroup* g, AvahiEntryGroupState state) {
  e.group = g;  // may run inside avahi_entry_group_new, before it returned the pointer
  switch (state) {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
      host_.info("published " + e.type + " \"" + e.name + "\" on port " + std::to_string(e.port));
      break;
    case AVAHI_ENTRY_GROUP_COLLISION: {
      // Someone on the network has this name: take the next one and register again.
      std::string next = dnssd::alternative_name(e.name);
      host_.warn("service name \"" + e.name + "\" (" + e.type +
                 ") collides on the network; renamed to \"" + next + "\"");
      e.name = next;
      register_entry(e);
      break;
    }
    case AVAHI_ENTRY_GROUP_FAILURE:
      host_.warn("publishing " + e.type + " \"" + e.name + "\" failed: " +
                 avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g))));
      break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
      break;
  }
}

int BonjourDiscovery::publish(const vsp_service_record& r, uint64_t* handle) {
  Entry& e = entries_.put(r, handle, "bonjour");
  e.owner = this;
  register_entry(e);
  return VSP_OK;
}

void BonjourDiscovery::withdraw(uint64_t handle) {
  auto e = entries_.take(handle);
  if (e && e->group != nullptr) avahi_entry_group_free(e->group);
}

}  // namespace vespid::bonjour
