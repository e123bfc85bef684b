#include "gateway_choice.hpp"

#include <algorithm>
#include <cctype>
#include <istream>
#include <ostream>

namespace vespid::agent {

namespace {

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

enum class Match { Name, DisplayName, IgnoringCase };

std::vector<std::size_t> matching(const std::vector<DiscoveredGateway>& found,
                                  const std::string& wanted, Match how) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto& g = found[i];
    bool hit = false;
    switch (how) {
      case Match::Name:
        hit = g.name == wanted;
        break;
      case Match::DisplayName:
        hit = g.display_name == wanted;
        break;
      case Match::IgnoringCase:
        hit = iequals(g.name, wanted) || iequals(g.display_name, wanted);
        break;
    }
    if (hit) out.push_back(i);
  }
  return out;
}

}  // namespace

std::string numbered_list(const std::vector<DiscoveredGateway>& found) {
  std::string out;
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto& g = found[i];
    out += "  " + std::to_string(i + 1) + ") " + g.name;
    if (!g.addresses.empty()) out += "  " + g.addresses.front();
    if (g.api_port) {
      out += "  api " + std::to_string(g.api_port) + (g.api_tls ? " (https)" : " (http)");
    } else {
      out += "  (no apiPort: cannot pair)";
    }
    const std::string& pin = !g.api_tls_sha256.empty() ? g.api_tls_sha256 : g.gateway_tls_sha256;
    if (!pin.empty()) out += "  sha256 " + pin.substr(0, 16) + "...";
    out += "\n";
  }
  return out;
}

GatewayChoice choose_gateway(const std::vector<DiscoveredGateway>& found, const std::string& wanted,
                             bool interactive) {
  GatewayChoice c;
  if (found.empty()) {
    c.error = "no Vespid gateway found";
    return c;
  }
  if (!wanted.empty()) {
    // The instance name is unique on the network (Avahi renames on collision); displayName
    // and case-blind matches are conveniences tried only when it names nothing.
    std::vector<std::size_t> hits;
    for (Match how : {Match::Name, Match::DisplayName, Match::IgnoringCase}) {
      hits = matching(found, wanted, how);
      if (!hits.empty()) break;
    }
    if (hits.size() == 1) {
      c.index = hits.front();
    } else {
      c.error = std::string(hits.empty() ? "no gateway named \"" : "several gateways named \"") +
                wanted + "\"; found:\n" + numbered_list(found);
    }
    return c;
  }
  if (found.size() == 1) {
    c.index = 0;
  } else if (interactive) {
    c.ask = true;
  } else {
    c.error = std::to_string(found.size()) +
              " gateways found and no terminal to ask on; pick one with --gateway-name NAME:\n" +
              numbered_list(found);
  }
  return c;
}

std::optional<std::size_t> parse_pick(const std::string& line, std::size_t count) {
  std::size_t b = 0, e = line.size();
  while (b < e && std::isspace(static_cast<unsigned char>(line[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(line[e - 1]))) --e;
  if (b == e || e - b > 6) return std::nullopt;
  std::size_t n = 0;
  for (std::size_t i = b; i < e; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(line[i]))) return std::nullopt;
    n = n * 10 + static_cast<std::size_t>(line[i] - '0');
  }
  if (n < 1 || n > count) return std::nullopt;
  return n - 1;
}

std::optional<std::size_t> ask_gateway(const std::vector<DiscoveredGateway>& found,
                                       std::istream& in, std::ostream& out) {
  out << "Several gateways answer:\n" << numbered_list(found);
  std::string line;
  for (;;) {
    out << "Pair with which one? [1-" << found.size() << "] " << std::flush;
    if (!std::getline(in, line)) return std::nullopt;
    if (auto pick = parse_pick(line, found.size())) return pick;
    out << "Please answer with a number from 1 to " << found.size() << ".\n";
  }
}

}  // namespace vespid::agent
