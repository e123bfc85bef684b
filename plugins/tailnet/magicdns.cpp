#include "magicdns.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

extern char** environ;

namespace vespid::tailnet {

namespace {
constexpr int kTickMs = 100;
constexpr int kMaxTicks = 50;  // 5 s, then the child is killed
constexpr std::size_t kMaxOutput = 4 << 20;
}  // namespace

std::string parse_status_dns_name(const std::string& text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object()) return "";
  auto self = doc.find("Self");
  if (self == doc.end() || !self->is_object()) return "";
  auto dns = self->find("DNSName");
  if (dns == self->end() || !dns->is_string()) return "";
  std::string name = dns->get<std::string>();
  while (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

MagicDns::MagicDns(vsp::Host host, std::string command, std::function<void()> changed)
    : host_(host), command_(std::move(command)), changed_(std::move(changed)) {
  timer_ = std::make_unique<vsp::Timer>(host_, [this] { tick(); });
}

MagicDns::~MagicDns() {
  watch_.reset();
  timer_.reset();
  if (fd_ >= 0) ::close(fd_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);  // SIGKILL: the wait is immediate
  }
}

void MagicDns::refresh() {
  if (pid_ > 0) {
    // The running query may have been answered before this change (the tailnet coming up at
    // boot while tailscaled is still starting); ask again once it is done, or the name would
    // wait for the next address change.
    again_ = true;
    return;
  }
  again_ = false;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::string a0 = command_, a1 = "status", a2 = "--json";
  char* argv[] = {a0.data(), a1.data(), a2.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, command_.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    if (!missing_logged_) {
      missing_logged_ = true;
      host_.debug("no MagicDNS hint: cannot run " + command_ + ": " + std::strerror(rc));
    }
    return;
  }
  pid_ = pid;
  fd_ = fds[0];
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  output_.clear();
  ticks_ = 0;
  watch_ =
      std::make_unique<vsp::Watch>(host_, fd_, VSP_WATCH_READ, [this](uint32_t) { readable(); });
  timer_->arm(kTickMs, kTickMs);
}

void MagicDns::readable() {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) {
      if (output_.size() < kMaxOutput) output_.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // EOF or error: the output is complete; the child is reaped by tick().
    watch_.reset();
    ::close(fd_);
    fd_ = -1;
    return;
  }
}

void MagicDns::tick() {
  if (pid_ <= 0) return;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0 && ++ticks_ < kMaxTicks) return;
  if (r != 0 && fd_ >= 0) readable();  // what the child wrote just before it exited
  if (r == 0) {
    host_.warn(command_ + " status --json did not answer within 5 s; killed it");
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    output_.clear();
  } else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    output_.clear();  // tailscaled not running, logged out, ...: no hint
  }
  pid_ = -1;
  timer_->disarm();
  watch_.reset();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  finish();
  if (again_) refresh();
}

void MagicDns::finish() {
  std::string name = parse_status_dns_name(output_);
  if (name == name_) return;
  name_ = name;
  host_.info(name_.empty() ? std::string("MagicDNS name unknown")
                           : "MagicDNS name " + name_ + " (from " + command_ + " status)");
  changed_();
}

}  // namespace vespid::tailnet
