// Which browse backend runs: the one asked for if this build has it; a clear error if not, so a
// build without either still runs every other command.
#include "mdns_browse.hpp"

#include "mdns_browse_backends.hpp"

namespace vespid::agent {

std::optional<Browser> browser_named(std::string_view name) {
  if (name == "avahi") return Browser::avahi;
  if (name == "dnssd") return Browser::dnssd;
  return std::nullopt;
}

const char* browser_name(Browser b) {
  return b == Browser::avahi ? "avahi" : "dnssd";
}

bool browser_built_in(Browser b) {
#ifdef VESPID_AGENT_BROWSE_AVAHI
  if (b == Browser::avahi) return true;
#endif
#ifdef VESPID_AGENT_BROWSE_DNSSD
  if (b == Browser::dnssd) return true;
#endif
  (void)b;
  return false;
}

Browser default_browser() {
  return browser_built_in(Browser::avahi) || !browser_built_in(Browser::dnssd) ? Browser::avahi
                                                                               : Browser::dnssd;
}

std::vector<ResolvedService> browse_services(Browser browser, const std::string& type,
                                             std::chrono::milliseconds timeout) {
#ifdef VESPID_AGENT_BROWSE_AVAHI
  if (browser == Browser::avahi) return browse_avahi(type, timeout);
#endif
#ifdef VESPID_AGENT_BROWSE_DNSSD
  if (browser == Browser::dnssd) return browse_dnssd(type, timeout);
#endif
  (void)type;
  (void)timeout;
  if (!browser_built_in(Browser::avahi) && !browser_built_in(Browser::dnssd)) {
    throw BrowseError(
        "this vespid-agent was built without Avahi (libavahi-client) and without dns_sd, so it "
        "cannot discover gateways; pass --api URL instead");
  }
  const Browser other = browser == Browser::avahi ? Browser::dnssd : Browser::avahi;
  throw BrowseError(std::string("this vespid-agent was built without the ") +
                    browser_name(browser) + " browser; use --browser " + browser_name(other) +
                    " or pass --api URL instead");
}

}  // namespace vespid::agent
