// TLS toward a server that presents a certificate signed by a CA of the test's own, for the
// name db.example, reached at 127.0.0.1 (hostaddr) so nothing leaves the machine: verify-full
// (the default for a server elsewhere) connects with the right CA and refuses another CA, a
// missing CA file or another name, naming the reason; a weaker mode connects and is logged as
// a warning; a server on loopback that offers TLS gets it under the default `prefer`.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pg_backend.hpp"
#include "process.hpp"
#include "skip_or_fail.hpp"
#include "temp_dir.hpp"

namespace vespid::storage_test::postgres {
namespace {

// The certificates and a TLS-enabled server, made once for the suite.
class TlsLab {
 public:
  TlsLab() {
    const std::vector<std::string> key = {"-newkey", "ec", "-pkeyopt",
                                          "ec_paramgen_curve:prime256v1", "-nodes"};
    openssl({"req", "-x509"}, key,
            {"-keyout", certs_.file("ca.key"), "-out", ca(), "-days", "2", "-subj",
             "/CN=vespid-test-ca"});
    openssl({"req", "-x509"}, key,
            {"-keyout", certs_.file("other.key"), "-out", other_ca(), "-days", "2", "-subj",
             "/CN=another-ca"});
    openssl({"req"}, key,
            {"-keyout", certs_.file("server.key"), "-out", certs_.file("server.csr"), "-subj",
             "/CN=db.example"});
    std::ofstream(certs_.file("ext.cnf")) << "subjectAltName=DNS:db.example\n";
    openssl({"x509", "-req"}, {},
            {"-in", certs_.file("server.csr"), "-CA", ca(), "-CAkey", certs_.file("ca.key"),
             "-CAcreateserial", "-out", certs_.file("server.crt"), "-days", "2", "-extfile",
             certs_.file("ext.cnf")});
    if (!error_.empty()) return;
    try {
      server_ = std::make_unique<vespid::test::PostgresServer>();
      // The server reads its key as its own user, who must own it with mode 0600.
      struct stat st {};
      ::stat(server_->dir().c_str(), &st);
      for (const char* f : {"server.crt", "server.key"}) {
        const std::string to = server_->dir() + "/" + f;
        std::filesystem::copy_file(certs_.file(f), to);
        ::chmod(to.c_str(), 0600);
        if (::chown(to.c_str(), st.st_uid, st.st_gid) != 0) throw std::runtime_error("chown " + to);
      }
      server_->add_setting("ssl=on");
      server_->add_setting("ssl_cert_file=" + server_->dir() + "/server.crt");
      server_->add_setting("ssl_key_file=" + server_->dir() + "/server.key");
      server_->start();
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }

  const std::string& error() const { return error_; }
  std::string ca() const { return certs_.file("ca.crt"); }
  std::string other_ca() const { return certs_.file("other.crt"); }
  int port() const { return server_->port(); }

 private:
  void openssl(std::vector<std::string> argv, const std::vector<std::string>& middle,
               const std::vector<std::string>& rest) {
    if (!error_.empty()) return;
    argv.insert(argv.begin(), "openssl");
    argv.insert(argv.end(), middle.begin(), middle.end());
    argv.insert(argv.end(), rest.begin(), rest.end());
    const auto r = vespid::test::run_command(argv);
    if (r.exit_code != 0) error_ = "openssl " + argv[1] + " failed: " + r.err;
  }

  vespid::test::TempDir certs_{"vespid-pg-certs"};
  std::unique_ptr<vespid::test::PostgresServer> server_;
  std::string error_;
};

class TlsTest : public PostgresTest {
 protected:
  static TlsLab& lab() {
    static TlsLab lab;
    return lab;
  }

  void SetUp() override {
    PostgresTest::SetUp();
    if (vespid::test::run_command({"openssl", "version"}).exit_code != 0) {
      VESPID_SKIP_UNLESS_CI("openssl is not installed (it makes the test's certificates)");
    }
    ASSERT_EQ(lab().error(), "");
  }

  // The server as db.example (or `name`), dialled at 127.0.0.1.
  std::string conninfo(const std::string& name = "db.example") {
    return "host=" + name + " hostaddr=127.0.0.1 port=" + std::to_string(lab().port()) +
           " dbname=vespid user=vespid";
  }
  int open_with(const std::string& conninfo, const std::string& extra, std::string* msg) {
    return h().open_with(config_for(conninfo, schema(), extra), msg);
  }
};

TEST_F(TlsTest, VerifyFullWithTheServersCaConnectsOverTls) {
  std::string msg;
  ASSERT_EQ(open_with(conninfo(), R"("sslrootcert": )" + json_string(lab().ca()), &msg), VSP_OK)
      << msg;
  EXPECT_TRUE(logged("connected to db.example:" + std::to_string(lab().port()) + " over TLS"));
  EXPECT_TRUE(logged("sslmode verify-full from default"));
  EXPECT_FALSE(logged("WARN"));
  ASSERT_EQ(store().commit({Txn().put("k", "v")}).status, VSP_OK);
}

TEST_F(TlsTest, ARelativeSslrootcertIsFoundInTheStateDirectory) {
  std::filesystem::copy_file(lab().ca(), h().dir() / "db-ca.pem");
  std::string msg;
  ASSERT_EQ(open_with(conninfo(), R"("sslrootcert": "db-ca.pem")", &msg), VSP_OK) << msg;
}

TEST_F(TlsTest, AnotherCaIsRefused) {
  std::string msg;
  EXPECT_EQ(open_with(conninfo(), R"("sslrootcert": )" + json_string(lab().other_ca()), &msg),
            VSP_E_IO);
  EXPECT_NE(msg.find("cannot connect to db.example:" + std::to_string(lab().port())),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("certificate verify failed"), std::string::npos) << msg;
}

TEST_F(TlsTest, AnotherHostNameIsRefused) {
  std::string msg;
  EXPECT_EQ(
      open_with(conninfo("other.example"), R"("sslrootcert": )" + json_string(lab().ca()), &msg),
      VSP_E_IO);
  EXPECT_NE(msg.find("does not match host name \"other.example\""), std::string::npos) << msg;
}

TEST_F(TlsTest, VerifyFullWithoutACaFileFailsNamingTheFileLibpqLookedFor) {
  std::string msg;
  EXPECT_EQ(
      open_with(conninfo(), R"("sslrootcert": )" + json_string(h().dir() / "absent.pem"), &msg),
      VSP_E_IO);
  EXPECT_NE(msg.find("root certificate file \"" + (h().dir() / "absent.pem").string() +
                     "\" does not exist"),
            std::string::npos)
      << msg;
}

TEST_F(TlsTest, RequireEncryptsWithoutVerifyingAndSaysSo) {
  std::string msg;
  ASSERT_EQ(open_with(conninfo(), R"("sslmode": "require")", &msg), VSP_OK) << msg;
  EXPECT_TRUE(logged("over TLS"));
  EXPECT_TRUE(logged(
      "WARN postgres: sslmode=require (config) toward db.example:" + std::to_string(lab().port()) +
      ": encrypted, but the server's certificate is not checked"));
}

TEST_F(TlsTest, OnLoopbackTheDefaultPreferUsesTlsWhenTheServerOffersIt) {
  std::string msg;
  ASSERT_EQ(open_with("host=127.0.0.1 port=" + std::to_string(lab().port()) +
                          " dbname=vespid user=vespid",
                      "", &msg),
            VSP_OK)
      << msg;
  EXPECT_TRUE(logged("connected to 127.0.0.1:" + std::to_string(lab().port()) + " over TLS"));
  EXPECT_TRUE(logged("sslmode prefer from default"));
}

}  // namespace
}  // namespace vespid::storage_test::postgres
