#include "nats_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "gateway_process.hpp"  // pick_free_port
#include "process.hpp"

namespace vespid::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

bool executable(const std::string& path) {
  return !path.empty() && ::access(path.c_str(), X_OK) == 0;
}

// The exit status, or -1 if it did not exit within `timeout`.
int wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return decode_wait_status(status);
    if (r < 0 && errno != EINTR) return -2;
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(10ms);
  }
}

// Whether something accepts TCP connections on 127.0.0.1:port and greets like a NATS server
// (its first line is "INFO {...}").
bool greets(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    char buf[5] = {};
    ok = ::recv(fd, buf, 4, MSG_WAITALL) == 4 && std::memcmp(buf, "INFO", 4) == 0;
  }
  ::close(fd);
  return ok;
}

std::string tail(const std::string& text, size_t n = 3000) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

}  // namespace

std::string NatsServer::find_binary() {
  if (const char* env = std::getenv("VESPID_NATS_SERVER"); env != nullptr && executable(env)) {
    return env;
  }
  for (const char* p : {"/usr/bin/nats-server", "/usr/sbin/nats-server"}) {
    if (executable(p)) return p;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (executable(dir + "/nats-server")) return dir + "/nats-server";
  }
  return "";
}

std::optional<std::string> NatsServer::unavailable() {
  // Lets a machine that has the program show what one without it does (docs/testing.md).
  if (const char* force = std::getenv("VESPID_TEST_FORCE_NO_NATS"); force && *force) {
    return std::string("VESPID_TEST_FORCE_NO_NATS is set: behaving as if nats-server were missing");
  }
  if (!find_binary().empty()) return std::nullopt;
  return std::string(
      "nats-server is not installed: looked in $VESPID_NATS_SERVER, /usr/bin, /usr/sbin and "
      "$PATH (scripts/install-deps.sh installs the nats-server package)");
}

NatsServer::NatsServer(std::string config) : binary_(find_binary()), config_(std::move(config)) {
  if (binary_.empty()) throw std::runtime_error(*unavailable());
  std::string root = "/tmp";
  if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp == '/') root = tmp;
  std::string tmpl = root + "/vespid-nats-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp(" + tmpl + ") failed: " + std::strerror(errno));
  }
  dir_ = tmpl;
  log_path_ = dir_ + "/server.log";
  if (!config_.empty()) {
    std::ofstream(dir_ + "/nats.conf") << config_ << "\n";
  }
}

NatsServer::~NatsServer() {
  try {
    stop();
  } catch (...) {
  }
  const char* keep = std::getenv("VESPID_KEEP_TEST_DIRS");
  if (keep != nullptr && std::string_view(keep) == "1") return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string NatsServer::url() const {
  return "nats://127.0.0.1:" + std::to_string(port_);
}

std::string NatsServer::file(const std::string& name) const {
  return dir_ + "/" + name;
}

std::string NatsServer::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool NatsServer::launch() {
  if (port_ == 0) port_ = pick_free_port();
  const size_t log_before = log().size();
  const int out = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || in < 0) throw std::runtime_error("cannot open " + log_path_);
  // Loopback only; no monitoring port; the server's own log to stderr, which goes to the file.
  std::vector<std::string> argv = {binary_, "-a", "127.0.0.1", "-p", std::to_string(port_)};
  if (!config_.empty()) {
    argv.push_back("-c");
    argv.push_back(dir_ + "/nats.conf");
  }
  try {
    pid_ = spawn(argv, {}, in, out, out);
  } catch (...) {
    ::close(out);
    ::close(in);
    throw;
  }
  ::close(out);
  ::close(in);
  try {
    wait_ready();
  } catch (...) {
    const std::string since = log().substr(log_before);
    kill();
    if (since.find("address already in use") != std::string::npos) {
      port_ = 0;
      return false;
    }
    throw;
  }
  return true;
}

void NatsServer::wait_ready() {
  const auto deadline = Clock::now() + 30s;
  while (!greets(port_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("nats-server exited while starting:\n" + tail(log()));
    }
    if (Clock::now() >= deadline) {
      throw std::runtime_error("nats-server did not accept connections within 30 s:\n" +
                               tail(log()));
    }
    std::this_thread::sleep_for(10ms);
  }
}

void NatsServer::start() {
  if (running()) return;
  // Only the first start may move to another port; later starts keep the one clients know.
  const bool may_move = port_ == 0;
  for (int tries = 0; !launch(); ++tries) {
    if (!may_move) throw std::runtime_error("port " + std::to_string(port_) + " was taken");
    if (tries == 3) throw std::runtime_error("no free port for nats-server after 4 tries");
  }
}

void NatsServer::stop() {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  if (wait_for(pid_, 10s) == -1) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

void NatsServer::kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace vespid::test
