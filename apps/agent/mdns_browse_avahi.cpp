// The avahi backend of mdns_browse.hpp: avahi-daemon through libavahi-client on the system
// D-Bus, driven by an AvahiSimplePoll on the calling thread.
#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-common/simple-watch.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "browse_window.hpp"
#include "mdns_address.hpp"
#include "mdns_browse_backends.hpp"

namespace vespid::agent {

namespace {

// What the callbacks share; they all run inside avahi_simple_poll_iterate on this thread.
struct Browse {
  AvahiClient* client = nullptr;
  std::vector<ResolvedService> found;
  int resolving = 0;
  std::string failure;  // set by a callback: the browse cannot go on
};

std::string address_text(const AvahiAddress& a, AvahiIfIndex iface) {
  char buf[AVAHI_ADDRESS_STR_MAX] = {};
  avahi_address_snprint(buf, sizeof buf, &a);
  return address_with_zone(buf, iface);
}

void on_resolved(AvahiServiceResolver* r, AvahiIfIndex iface, AvahiProtocol, AvahiResolverEvent ev,
                 const char* name, const char* type, const char* domain, const char* host,
                 const AvahiAddress* addr, uint16_t port, AvahiStringList* txt,
                 AvahiLookupResultFlags, void* userdata) {
  auto* b = static_cast<Browse*>(userdata);
  if (ev == AVAHI_RESOLVER_FOUND && addr != nullptr) {
    ResolvedService s;
    s.name = name ? name : "";
    s.type = type ? type : "";
    s.domain = domain ? domain : "";
    s.host_name = host ? host : "";
    s.address = address_text(*addr, iface);
    s.port = port;
    for (AvahiStringList* t = txt; t != nullptr; t = avahi_string_list_get_next(t)) {
      s.txt.emplace_back(reinterpret_cast<const char*>(avahi_string_list_get_text(t)),
                         avahi_string_list_get_size(t));
    }
    b->found.push_back(std::move(s));
  } else {
    spdlog::debug("cannot resolve \"{}\" ({}): {}", name ? name : "", type ? type : "",
                  avahi_strerror(avahi_client_errno(b->client)));
  }
  --b->resolving;
  avahi_service_resolver_free(r);
}

void on_browse(AvahiServiceBrowser*, AvahiIfIndex iface, AvahiProtocol proto, AvahiBrowserEvent ev,
               const char* name, const char* type, const char* domain, AvahiLookupResultFlags,
               void* userdata) {
  auto* b = static_cast<Browse*>(userdata);
  switch (ev) {
    case AVAHI_BROWSER_NEW:
      // Resolve on the interface and protocol it was seen on; every such pair is one answer.
      if (avahi_service_resolver_new(b->client, iface, proto, name, type, domain,
                                     AVAHI_PROTO_UNSPEC, static_cast<AvahiLookupFlags>(0),
                                     on_resolved, b) != nullptr) {
        ++b->resolving;
      } else {
        spdlog::debug("cannot resolve \"{}\": {}", name,
                      avahi_strerror(avahi_client_errno(b->client)));
      }
      break;
    case AVAHI_BROWSER_FAILURE:
      b->failure = std::string("browsing failed: ") + avahi_strerror(avahi_client_errno(b->client));
      break;
    case AVAHI_BROWSER_REMOVE:
    case AVAHI_BROWSER_ALL_FOR_NOW:
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
      break;
  }
}

void on_client(AvahiClient* c, AvahiClientState state, void* userdata) {
  auto* b = static_cast<Browse*>(userdata);
  if (state == AVAHI_CLIENT_FAILURE) {
    b->failure = std::string("lost avahi-daemon: ") + avahi_strerror(avahi_client_errno(c));
  }
}

std::string unreachable(int error) {
  std::string why = avahi_strerror(error);
  return "cannot reach avahi-daemon (" + why +
         "): gateway discovery needs a running avahi-daemon on the system D-Bus (Debian: apt "
         "install avahi-daemon); or pass --api URL";
}

}  // namespace

std::vector<ResolvedService> browse_avahi(const std::string& type,
                                          std::chrono::milliseconds timeout) {
  std::unique_ptr<AvahiSimplePoll, decltype(&avahi_simple_poll_free)> poll(avahi_simple_poll_new(),
                                                                           avahi_simple_poll_free);
  if (!poll) throw BrowseError("cannot create an Avahi poll object (out of memory)");
  Browse b;
  int error = 0;
  // No AVAHI_CLIENT_NO_FAIL: without a daemon the user wants to hear it now, not a silent wait.
  std::unique_ptr<AvahiClient, decltype(&avahi_client_free)> client(
      avahi_client_new(avahi_simple_poll_get(poll.get()), static_cast<AvahiClientFlags>(0),
                       on_client, &b, &error),
      avahi_client_free);
  if (!client) throw BrowseError(unreachable(error));
  b.client = client.get();
  // Freed with the client.
  if (avahi_service_browser_new(b.client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, type.c_str(),
                                nullptr, static_cast<AvahiLookupFlags>(0), on_browse,
                                &b) == nullptr) {
    throw BrowseError("cannot browse " + type + ": " +
                      avahi_strerror(avahi_client_errno(b.client)));
  }
  const BrowseWindow window(BrowseWindow::Clock::now(), timeout);
  while (const auto wait = window.next_wait(BrowseWindow::Clock::now(), b.resolving)) {
    const int rc = avahi_simple_poll_iterate(poll.get(), static_cast<int>(wait->count()));
    if (rc != 0 || !b.failure.empty()) break;
  }
  if (!b.failure.empty()) throw BrowseError(b.failure);
  return std::move(b.found);
}

}  // namespace vespid::agent
