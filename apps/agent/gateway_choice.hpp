// Which discovered gateway `connect --discover` pairs with: the one named by --gateway-name,
// the only one found, or (several, on a terminal) the one the user picks from a numbered list.
// Without a terminal it never guesses: it fails and lists what it found.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "gateway_record.hpp"

namespace vespid::agent {

struct GatewayChoice {
  std::optional<std::size_t> index;  // the chosen gateway
  bool ask = false;                  // several and a terminal: ask (ask_gateway)
  std::string error;                 // neither: why, with the candidates listed
};

// `wanted` (--gateway-name) matches a service instance name exactly, else a displayName
// exactly, else either ignoring case; more than one match is an error, not a pick.
GatewayChoice choose_gateway(const std::vector<DiscoveredGateway>& found, const std::string& wanted,
                             bool interactive);

// "  1) Office gateway  192.168.1.5  api 3001 (https)  sha256 ab12..." one line each.
std::string numbered_list(const std::vector<DiscoveredGateway>& found);

// A number in 1..count (surrounding blanks allowed) as an index; nullopt otherwise.
std::optional<std::size_t> parse_pick(const std::string& line, std::size_t count);

// Prints the list and a prompt to `out`, reads answers from `in` until one is valid. nullopt on
// end of input (the user gave up).
std::optional<std::size_t> ask_gateway(const std::vector<DiscoveredGateway>& found,
                                       std::istream& in, std::ostream& out);

}  // namespace vespid::agent
