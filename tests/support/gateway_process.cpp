#include "gateway_process.hpp"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "build_paths.hpp"
#include "operator_client.hpp"
#include "temp_dir.hpp"

namespace vespid::test {

namespace {

using Clock = std::chrono::steady_clock;

// Several GatewayProcess objects may share one state dir (a second gateway on the same
// directory); each gets its own log file.
std::string next_log_path(const std::string& state_dir) {
  static std::atomic<int> counter{0};
  return state_dir + "/gateway-test-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1) + 1) + ".log";
}

}  // namespace

GatewayProcess::~GatewayProcess() {
  if (pid_ > 0 && !exited_) kill9();
}

void GatewayProcess::start(const std::string& state_dir, const std::vector<std::string>& extra_args,
                           const EnvOverrides& env) {
  if (pid_ > 0 && running()) {
    throw std::runtime_error("GatewayProcess::start: the previous gateway is still running");
  }
  std::filesystem::create_directories(state_dir);
  ::chmod(state_dir.c_str(), 0700);
  state_dir_ = state_dir;
  log_path_ = next_log_path(state_dir);

  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    throw std::runtime_error("cannot create " + log_path_ + ": " + std::strerror(errno));
  }
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  std::vector<std::string> argv = {gateway_bin(), "run",          "--state-dir",
                                   state_dir,     "--plugin-dir", plugin_dir()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  argv.insert(argv.begin(), launcher_.begin(), launcher_.end());
  try {
    pid_ = spawn(argv, env, devnull, log_fd, log_fd, {"VESPID_"});
  } catch (...) {
    ::close(log_fd);
    ::close(devnull);
    throw;
  }
  ::close(log_fd);
  ::close(devnull);
  exited_ = false;
  exit_code_ = -1;
}

bool GatewayProcess::reap(int options) {
  if (pid_ <= 0) return true;
  if (exited_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, options);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    exited_ = true;
    exit_code_ = decode_wait_status(status);
    return true;
  }
  if (r < 0) {  // not our child any more (already reaped elsewhere): treat as gone
    exited_ = true;
    return true;
  }
  return false;
}

bool GatewayProcess::running() {
  return pid_ > 0 && !reap(WNOHANG);
}

int GatewayProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (reap(WNOHANG)) return exit_code_;
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(5ms);
  }
}

int GatewayProcess::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (!exited_) ::kill(pid_, SIGTERM);
  const int code = wait_exit(timeout);
  if (code == -1 && !exited_) {
    kill9();
    return -1;
  }
  return code;
}

int GatewayProcess::kill9() {
  if (pid_ <= 0) return -1;
  if (!exited_) {
    ::kill(pid_, SIGKILL);
    reap(0);
  }
  return exit_code_;
}

std::string GatewayProcess::log_text() const {
  return log_path_.empty() ? "" : read_file(log_path_);
}

::testing::AssertionResult GatewayProcess::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string last_error = "never tried";
  for (;;) {
    if (!running()) {
      return ::testing::AssertionFailure() << "vespid-gateway exited with code " << exit_code_
                                           << " before it was ready; its output:\n"
                                           << log_text();
    }
    try {
      auto client = cli::OperatorClient::connect(socket_path(), state_dir_);
      auto payload = client.call("health", nlohmann::json::object(), 2s);
      if (payload.value("ok", false)) return ::testing::AssertionSuccess();
      last_error = "health answered " + payload.dump();
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure()
             << "vespid-gateway (pid " << pid_ << ") not ready after " << timeout.count()
             << " ms: " << last_error << "\nits output:\n"
             << log_text();
    }
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace vespid::test
