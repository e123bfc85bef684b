// Why a server cannot be reached, in the operating system's words. libnats reports a failed
// connect as "No server available for connection" whatever happened; before start gives up,
// one plain TCP connect to each server finds the reason an operator can act on ("Connection
// refused", "timed out", a name that does not resolve).
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace vespid::natsbus {

// Nothing when a TCP connection to the URL's host and port succeeds (the trouble is past TCP:
// TLS, authentication); otherwise the reason. Blocks up to `timeout`.
std::optional<std::string> tcp_probe(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace vespid::natsbus
