#include "private_file.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <random>

namespace vespid::agent {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

void make_dirs(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw PrivateFileError(dir + " exists and is not a directory");
    return;
  }
  if (dir != "/" && dir != ".") make_dirs(dirname_of(dir));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw PrivateFileError("cannot create directory " + dir + ": " + errno_text(errno));
  }
}

void write_all(int fd, const std::string& data, const std::string& path) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw PrivateFileError("cannot write " + path + ": " + errno_text(errno));
    }
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string dirname_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void write_private_file(const std::string& path, const std::string& text) {
  const std::string dir = dirname_of(path);
  make_dirs(dir);
  std::random_device rd;
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw PrivateFileError("cannot create " + tmp + ": " + errno_text(errno));
  try {
    // The umask cannot widen 0600, but an explicit fchmod documents the intent.
    if (::fchmod(fd, 0600) != 0) {
      throw PrivateFileError("cannot chmod " + tmp + ": " + errno_text(errno));
    }
    write_all(fd, text, tmp);
    if (::fsync(fd) != 0) throw PrivateFileError("cannot fsync " + tmp + ": " + errno_text(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw PrivateFileError("cannot replace " + path + ": " + errno_text(err));
  }
  // Make the rename itself durable.
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace vespid::agent
