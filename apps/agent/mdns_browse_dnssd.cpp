// The dnssd backend of mdns_browse.hpp, over dns_sd.h: DNSServiceBrowse finds the instances,
// DNSServiceResolve each one (host, port, TXT) on the interface it was seen on, then the host's
// addresses: DNSServiceGetAddrInfo where dns_sd has it (mDNSResponder), else A and AAAA queries
// (DNSServiceQueryRecord): Avahi's compatibility library has no DNSServiceGetAddrInfo, and
// resolving the .local name with getaddrinfo would need nss-mdns, which a host need not have.
// Every reference's socket is polled on the calling thread until the browse window ends.
#include <arpa/inet.h>
#include <dns_sd.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "avahi_compat.hpp"
#include "browse_window.hpp"
#include "dnssd_txt.hpp"
#include "mdns_address.hpp"
#include "mdns_browse_backends.hpp"

namespace vespid::agent {

namespace {

// Owns one DNSServiceRef; deallocating it ends the browse, resolve or query.
struct Ref {
  DNSServiceRef ref = nullptr;
  Ref() = default;
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  ~Ref() { reset(); }
  void reset() {
    if (ref != nullptr) DNSServiceRefDeallocate(ref);
    ref = nullptr;
  }
};

struct Browse;

// One instance as seen on one interface, from browse to addresses.
struct Instance {
  Browse* browse = nullptr;
  std::uint32_t iface = 0;
  std::string name, type, domain;  // as the browse reported them, for DNSServiceResolve
  ResolvedService service;         // filled by the resolve; one copy per address found
  Ref resolve;
  bool resolved = false;  // the resolve answered: its reference is freed after the callback
  Ref addr_v4, addr_v6;   // DNSServiceGetAddrInfo uses addr_v4 for both families
  bool has_address = false, failed = false;
};

// What the callbacks share; they all run inside DNSServiceProcessResult on this thread.
struct Browse {
  Ref ref;
  std::vector<std::unique_ptr<Instance>> instances;  // stable addresses: callbacks hold them
  std::vector<ResolvedService> found;
  std::string failure;  // set by a callback: the browse cannot go on

  int resolving() const {
    return static_cast<int>(std::count_if(instances.begin(), instances.end(), [](const auto& i) {
      return !i->has_address && !i->failed;
    }));
  }
};

// dns_sd names end in a dot ("local.", "gw.local."); Avahi's do not, and the records a gateway
// is reported with must not depend on the backend.
std::string without_trailing_dot(const char* s) {
  std::string out = s != nullptr ? s : "";
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

void add_address(Instance& in, const std::string& literal, std::uint32_t iface) {
  ResolvedService s = in.service;
  s.address = address_with_zone(literal, iface);
  in.browse->found.push_back(std::move(s));
  in.has_address = true;
}

#ifdef VESPID_DNSSD_HAVE_GETADDRINFO
void DNSSD_API on_addrinfo(DNSServiceRef, DNSServiceFlags flags, std::uint32_t iface,
                           DNSServiceErrorType err, const char*, const struct sockaddr* addr,
                           std::uint32_t, void* ctx) {
  auto& in = *static_cast<Instance*>(ctx);
  if (err != kDNSServiceErr_NoError || addr == nullptr || !(flags & kDNSServiceFlagsAdd)) return;
  char buf[INET6_ADDRSTRLEN] = {};
  const void* bytes =
      addr->sa_family == AF_INET6
          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr)
          : &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr;
  if (::inet_ntop(addr->sa_family, bytes, buf, sizeof buf) != nullptr) add_address(in, buf, iface);
}
#else
void DNSSD_API on_address(DNSServiceRef, DNSServiceFlags flags, std::uint32_t iface,
                          DNSServiceErrorType err, const char*, std::uint16_t rrtype, std::uint16_t,
                          std::uint16_t rdlen, const void* rdata, std::uint32_t, void* ctx) {
  auto& in = *static_cast<Instance*>(ctx);
  if (err != kDNSServiceErr_NoError || !(flags & kDNSServiceFlagsAdd)) return;
  const int family = rrtype == kDNSServiceType_AAAA ? AF_INET6 : AF_INET;
  if (rdlen != (family == AF_INET6 ? 16 : 4)) return;
  char buf[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(family, rdata, buf, sizeof buf) != nullptr) add_address(in, buf, iface);
}
#endif

// Starts looking up the resolved host's addresses on the instance's interface.
void query_addresses(Instance& in, const char* host) {
  DNSServiceErrorType err = kDNSServiceErr_NoError;
#ifdef VESPID_DNSSD_HAVE_GETADDRINFO
  err = DNSServiceGetAddrInfo(&in.addr_v4.ref, 0, in.iface,
                              kDNSServiceProtocol_IPv4 | kDNSServiceProtocol_IPv6, host,
                              on_addrinfo, &in);
#else
  err = DNSServiceQueryRecord(&in.addr_v4.ref, 0, in.iface, host, kDNSServiceType_A,
                              kDNSServiceClass_IN, on_address, &in);
  if (err == kDNSServiceErr_NoError) {
    // Without AAAA the IPv4 answers still serve; only a failed A query gives the instance up.
    if (const auto e =
            DNSServiceQueryRecord(&in.addr_v6.ref, 0, in.iface, host, kDNSServiceType_AAAA,
                                  kDNSServiceClass_IN, on_address, &in);
        e != kDNSServiceErr_NoError) {
      spdlog::debug("cannot query AAAA records of {} (dns_sd error {})", host, e);
      in.addr_v6.ref = nullptr;
    }
  }
#endif
  if (err != kDNSServiceErr_NoError) {
    in.addr_v4.ref = nullptr;  // not set on failure
    spdlog::debug("cannot look up the addresses of {} (dns_sd error {})", host, err);
    in.failed = true;
  }
}

void DNSSD_API on_resolved(DNSServiceRef, DNSServiceFlags, std::uint32_t, DNSServiceErrorType err,
                           const char*, const char* host, std::uint16_t port_be,
                           std::uint16_t txt_length, const unsigned char* txt, void* ctx) {
  auto& in = *static_cast<Instance*>(ctx);
  if (in.resolved) return;  // a resolve keeps answering; the first answer is the one used
  in.resolved = true;
  if (err != kDNSServiceErr_NoError || host == nullptr) {
    spdlog::debug("cannot resolve \"{}\" ({}): dns_sd error {}", in.name, in.type, err);
    in.failed = true;
    return;
  }
  in.service.host_name = without_trailing_dot(host);
  in.service.port = ntohs(port_be);
  in.service.txt = txt_strings(txt, txt_length);
  query_addresses(in, host);
}

void DNSSD_API on_browse(DNSServiceRef, DNSServiceFlags flags, std::uint32_t iface,
                         DNSServiceErrorType err, const char* name, const char* type,
                         const char* domain, void* ctx) {
  auto& b = *static_cast<Browse*>(ctx);
  if (err != kDNSServiceErr_NoError) {
    b.failure = "browsing failed (dns_sd error " + std::to_string(err) + ")";
    return;
  }
  if (!(flags & kDNSServiceFlagsAdd) || name == nullptr) return;
  // Avahi reports an instance once per protocol on an interface; resolving it once is enough.
  for (const auto& in : b.instances) {
    if (in->iface == iface && in->name == name && in->type == type && in->domain == domain) return;
  }
  auto in = std::make_unique<Instance>();
  in->browse = &b;
  in->iface = iface;
  in->name = name;
  in->type = type;
  in->domain = domain;
  in->service.name = name;
  in->service.type = without_trailing_dot(type);
  in->service.domain = without_trailing_dot(domain);
  if (const auto e =
          DNSServiceResolve(&in->resolve.ref, 0, iface, name, type, domain, on_resolved, in.get());
      e != kDNSServiceErr_NoError) {
    spdlog::debug("cannot resolve \"{}\": dns_sd error {}", name, e);
    in->resolve.ref = nullptr;  // not set on failure
    return;
  }
  b.instances.push_back(std::move(in));
}

std::string unreachable(DNSServiceErrorType err) {
  return "cannot reach the mDNS daemon through dns_sd (dns_sd error " + std::to_string(err) +
         "): gateway discovery needs a running mDNSResponder (macOS) or avahi-daemon on the "
         "system D-Bus (Debian: apt install avahi-daemon); or pass --api URL";
}

// Waits up to `wait` for any reference to have a reply and processes it. False when the
// daemon connection is gone (b.failure says so).
bool process_ready(Browse& b, std::chrono::milliseconds wait) {
  std::vector<pollfd> fds;
  std::vector<DNSServiceRef> refs;
  auto add = [&](const Ref& r) {
    if (r.ref == nullptr) return;
    fds.push_back({DNSServiceRefSockFD(r.ref), POLLIN, 0});
    refs.push_back(r.ref);
  };
  add(b.ref);
  for (const auto& in : b.instances) {
    add(in->resolve);
    add(in->addr_v4);
    add(in->addr_v6);
  }
  const int n = ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
  if (n <= 0) return true;  // timeout, or a signal: the window decides what comes next
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    if (const auto err = DNSServiceProcessResult(refs[i]); err != kDNSServiceErr_NoError) {
      if (refs[i] == b.ref.ref) {
        b.failure = "lost the mDNS daemon (dns_sd error " + std::to_string(err) + ")";
        return false;
      }
      // One resolve or query lost: that instance is given up (its references are freed below,
      // not now: another of them may still be in `refs`), the rest go on.
      for (const auto& in : b.instances) {
        if (in->resolve.ref == refs[i] || in->addr_v4.ref == refs[i] ||
            in->addr_v6.ref == refs[i]) {
          in->failed = true;
        }
      }
    }
  }
  // Freed here, not in the callback that answered: dns_sd must not lose a reference it is
  // processing.
  for (const auto& in : b.instances) {
    if (in->resolved || in->failed) in->resolve.reset();
    if (in->failed) {
      in->addr_v4.reset();
      in->addr_v6.reset();
    }
  }
  return true;
}

}  // namespace

std::vector<ResolvedService> browse_dnssd(const std::string& type,
                                          std::chrono::milliseconds timeout) {
  dnssd::quiet_avahi_compat_warning();
  Browse b;
  if (const auto err = DNSServiceBrowse(&b.ref.ref, 0, 0, type.c_str(), nullptr, on_browse, &b);
      err != kDNSServiceErr_NoError) {
    b.ref.ref = nullptr;
    throw BrowseError(unreachable(err));
  }
  const BrowseWindow window(BrowseWindow::Clock::now(), timeout);
  while (const auto wait = window.next_wait(BrowseWindow::Clock::now(), b.resolving())) {
    if (!process_ready(b, *wait) || !b.failure.empty()) break;
  }
  if (!b.failure.empty()) throw BrowseError(b.failure);
  return std::move(b.found);
}

}  // namespace vespid::agent
