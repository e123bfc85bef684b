#include "gateway/instance_id.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "cluster/cluster_wire.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/state_dir_lock.hpp"
#include "runtime/crypto.hpp"

namespace vespid::core {

namespace {
constexpr const char* kFileName = "instance-id";

}  // namespace

std::string resolve_instance_id(const std::string& configured, const std::string& state_dir) {
  if (!configured.empty()) {
    if (!cluster::is_subject_token(configured)) {
      throw StartupError(exit_code::kConfig,
                         "cluster.instance_id \"" + configured +
                             "\" is not usable: letters, digits, '-' and '_' only, at most 64");
    }
    return configured;
  }
  const std::string path = state_dir + "/" + kFileName;
  std::ifstream in(path);
  std::string id;
  if (in && std::getline(in, id) && cluster::is_subject_token(id)) return id;
  id = "gw-" + crypto::hex(crypto::random_bytes(6));
  // Written whole or not at all: a crash mid-write must not leave a truncated id behind.
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  if (ok) {
    std::string line = id + "\n";
    ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
         ::fsync(fd) == 0;
    ::close(fd);
  }
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    throw StartupError(exit_code::kStateDir, "cannot write " + path + ": " + std::strerror(errno));
  }
  return id;
}

}  // namespace vespid::core
