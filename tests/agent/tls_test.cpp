// TLS verification through the real binary: an `openssl s_server` with a certificate for
// 127.0.0.1 only. Without VESPID_AGENT_TLS_CA_FILE it is refused; with it the handshake passes;
// under another host name (localhost) it is refused again.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "agent_test_util.hpp"
#include "gateway_process.hpp"  // pick_free_port
#include "process.hpp"
#include "skip_or_fail.hpp"
#include "temp_dir.hpp"

using namespace vespid::test;
using nlohmann::json;

namespace {

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

bool have_openssl() {
  return run_command({"sh", "-c", "command -v openssl"}).exit_code == 0;
}

std::string loop_error(const TempDir& tmp, const std::string& base_url, const EnvOverrides& extra) {
  const std::string file = tmp.file("payload.json");
  // A 1.5 s limit for the whole run: s_server never answers a POST.
  std::ofstream(file)
      << R"({"engine":"vespid.loop.v1","model":"m","message":"hi","limits":{"timeoutMs":1500}})";
  EnvOverrides env = {{"OPENAI_API_KEY", "sk-test"}, {"OPENAI_BASE_URL", base_url}};
  env.insert(extra.begin(), extra.end());
  const auto r = run_command({agent_bin(), "exec", "--payload", file}, env);
  const auto frames = json_lines(r.out);
  if (frames.empty() || !frames.back().contains("error")) return "no error: " + r.out + r.err;
  return frames.back()["error"];
}

}  // namespace

TEST(AgentTls, VerifiesAgainstTheCaFileAndTheHostName) {
  if (!have_openssl()) VESPID_SKIP_UNLESS_CI("openssl is not installed");
  TempDir tmp("agent-tls");
  const auto cert = run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                                 "/CN=vespid-test", "-addext", "subjectAltName=IP:127.0.0.1",
                                 "-keyout", tmp.file("srv.key"), "-out", tmp.file("srv.crt")});
  ASSERT_EQ(cert.exit_code, 0) << cert.err;
  const int port = pick_free_port();
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t server =
      spawn({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
             tmp.file("srv.crt"), "-key", tmp.file("srv.key"), "-www", "-quiet"},
            {}, null_fd, null_fd, null_fd);
  ::close(null_fd);
  for (int i = 0; i < 200 && !port_open(port); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::string base = "https://127.0.0.1:" + std::to_string(port) + "/v1";

  const std::string untrusted = loop_error(tmp, base, {});
  EXPECT_NE(untrusted.find("certificate verify failed"), std::string::npos) << untrusted;

  const std::string trusted =
      loop_error(tmp, base, {{"VESPID_AGENT_TLS_CA_FILE", tmp.file("srv.crt")}});
  // The handshake passed; s_server is no chat-completions API (it leaves a POST unanswered),
  // so the request fails later, by the run's 1.5 s time limit.
  EXPECT_EQ(trusted.rfind("LLM_REQUEST_FAILED", 0), 0u) << trusted;
  EXPECT_NE(trusted.find("timed out"), std::string::npos) << trusted;
  EXPECT_EQ(trusted.find("TLS handshake"), std::string::npos) << trusted;
  EXPECT_EQ(trusted.find("certificate"), std::string::npos) << trusted;

  const std::string wrong_name =
      loop_error(tmp, "https://localhost:" + std::to_string(port) + "/v1",
                 {{"VESPID_AGENT_TLS_CA_FILE", tmp.file("srv.crt")}});
  EXPECT_NE(wrong_name.find("certificate verify failed"), std::string::npos) << wrong_name;

  ::kill(server, SIGTERM);
  ::waitpid(server, nullptr, 0);
}
