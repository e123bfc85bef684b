// Small socket helpers: address text as the host wants it, and per-socket options.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>

namespace vespid::bridge {

// "127.0.0.1:18790" or "[::1]:18790" (IPv4-mapped IPv6 peers are shown as IPv4).
std::string format_endpoint(const boost::asio::ip::tcp::endpoint& ep);

// TCP_NODELAY always; with `keepalive`, SO_KEEPALIVE with idle 60 s, interval 10 s, 3 probes.
// Returns an empty string, or what failed (the socket is still usable).
std::string tune_accepted_socket(boost::asio::ip::tcp::socket& s, bool keepalive);

}  // namespace vespid::bridge
