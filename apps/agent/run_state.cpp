#include "run_state.hpp"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>

namespace vespid::agent {

namespace {

std::string now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[40];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

// Alive, and still a vespid-agent: a pid the kernel gave to another program since is stale.
bool is_live_agent(int pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  if (!cmdline) return true;  // no /proc to ask: the pid is all there is
  std::stringstream ss;
  ss << cmdline.rdbuf();
  const std::string args = ss.str();
  const std::string program = args.substr(0, args.find('\0'));
  // A zombie (killed, not yet reaped) has an empty command line: it runs no more.
  return program.find("vespid-agent") != std::string::npos;
}

}  // namespace

std::string run_state_path(const std::string& credentials_path) {
  const std::string suffix = ".json";
  if (credentials_path.size() > suffix.size() &&
      credentials_path.compare(credentials_path.size() - suffix.size(), suffix.size(), suffix) ==
          0) {
    return credentials_path.substr(0, credentials_path.size() - suffix.size()) + ".state.json";
  }
  return credentials_path + ".state.json";
}

nlohmann::json RunState::to_json() const {
  nlohmann::json j = {{"pid", pid},
                      {"credentialsFile", credentials_file},
                      {"startedAt", started_at},
                      {"connected", connected}};
  if (connected) {
    j["gatewayUrl"] = gateway_url;
    j["connectedSince"] = connected_since;
  }
  return j;
}

std::optional<RunState> read_run_state(const std::string& credentials_path) {
  std::ifstream in(run_state_path(credentials_path));
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  const auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (!j.is_object() || !j.contains("pid") || !j["pid"].is_number_integer()) return std::nullopt;
  RunState s;
  s.pid = j["pid"].get<int>();
  s.credentials_file = j.value("credentialsFile", "");
  s.started_at = j.value("startedAt", "");
  s.connected = j.value("connected", false);
  s.gateway_url = j.value("gatewayUrl", "");
  s.connected_since = j.value("connectedSince", "");
  s.alive = is_live_agent(s.pid);
  return s;
}

RunStateFile::RunStateFile(const std::string& credentials_path)
    : path_(run_state_path(credentials_path)) {
  state_.pid = static_cast<int>(::getpid());
  state_.credentials_file = credentials_path;
  state_.started_at = now_iso8601();
  write();
}

RunStateFile::~RunStateFile() {
  ::unlink(path_.c_str());
}

void RunStateFile::connected(const std::string& gateway_url) {
  state_.connected = true;
  state_.gateway_url = gateway_url;
  state_.connected_since = now_iso8601();
  write();
}

void RunStateFile::disconnected() {
  state_.connected = false;
  state_.gateway_url.clear();
  state_.connected_since.clear();
  write();
}

// Best effort: `status` is a convenience, so a full disk warns rather than stopping the agent.
void RunStateFile::write() const {
  const std::string text = state_.to_json().dump(2) + "\n";
  std::random_device rd;
  const std::string tmp = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    spdlog::warn("cannot write the state file {}: {}", tmp, std::strerror(errno));
    return;
  }
  std::size_t off = 0;
  bool ok = true;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ok = false;
      break;
    }
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    spdlog::warn("cannot write the state file {}: {}", path_, std::strerror(errno));
    ::unlink(tmp.c_str());
  }
}

}  // namespace vespid::agent
