// The socket file: creating it owner-only, refusing to steal a live gateway's socket, and
// removing only our own file on the way out.
#pragma once

#include <sys/types.h>

#include <string>

namespace vespid::unix_transport {

// A listening socket and the identity of the file it is bound to.
struct ListeningSocket {
  int fd = -1;
  dev_t dev = 0;
  ino_t ino = 0;
};

// Binds a non-blocking, close-on-exec listening socket at `path`, mode 0600 from the instant the
// file exists. A leftover socket file that nobody listens on is replaced; one that answers means
// another gateway is alive, and that is an error. Throws vsp::Error with a message naming `path`.
ListeningSocket listen_at(const std::string& path, int backlog);

// Unlinks `path` only if it is still the file listen_at() created (a successor gateway may have
// replaced it). Never throws.
void remove_socket_file(const std::string& path, const ListeningSocket& sock) noexcept;

}  // namespace vespid::unix_transport
