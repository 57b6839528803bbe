// sockets_peer: the Linux side of socket_calls_test, plain kernel sockets. Serves on
// consecutive ports from BASE (all addresses), one thread per connection:
//   BASE+0  echo       echoes everything until EOF, then closes
//   BASE+1  source     reads a line "N\n", sends N pattern bytes (byte i = i % 251), closes
//   BASE+2  reset      reads a line, then closes with SO_LINGER {1, 0}: a RST
//   BASE+3  callback   reads "PORT\n", connects back to the client's address at PORT
//                      (retrying refusals for 3 s), sends "hello\n", echoes until EOF
//   BASE+4  sink       reads until EOF, then sends "count=N\n" and closes
//   BASE+5  silent     reads a line, then sends nothing and reads nothing until the client
//                      closes (for blocking tests)
//   BASE+6  delayed    reads "MS\n", waits MS milliseconds, sends "late\n", echoes until EOF
// Prints "ready" when all listen. Usage: sockets_peer BASE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

bool write_all(int fd, const void* data, size_t len) {
  const auto* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL);
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

void echo_until_eof(int fd) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0 || !write_all(fd, buf, static_cast<size_t>(n))) return;
  }
}

void serve_source(int fd) {
  const long long total = std::atoll(read_line(fd).c_str());
  char buf[65536];
  long long sent = 0;
  while (sent < total) {
    const size_t n = static_cast<size_t>(std::min<long long>(sizeof(buf), total - sent));
    for (size_t i = 0; i < n; ++i)
      buf[i] = static_cast<char>((sent + static_cast<long long>(i)) % 251);
    if (!write_all(fd, buf, n)) return;
    sent += static_cast<long long>(n);
  }
}

void serve_reset(int fd) {
  (void)read_line(fd);
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

void serve_callback(int fd) {
  const int port = std::atoi(read_line(fd).c_str());
  sockaddr_in peer{};
  socklen_t len = sizeof(peer);
  ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len);
  peer.sin_port = htons(static_cast<uint16_t>(port));
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  for (;;) {
    int c = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&peer), sizeof(peer)) == 0) {
      write_all(c, "hello\n", 6);
      echo_until_eof(c);
      ::close(c);
      break;
    }
    ::close(c);
    if (errno != ECONNREFUSED || std::chrono::steady_clock::now() > give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  echo_until_eof(fd);
}

void serve_sink(int fd) {
  char buf[65536];
  long long count = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    count += n;
  }
  const std::string reply = "count=" + std::to_string(count) + "\n";
  write_all(fd, reply.data(), reply.size());
}

void serve_silent(int fd) {
  (void)read_line(fd);
  char c;
  while (::recv(fd, &c, 1, MSG_PEEK) > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void serve_delayed(int fd) {
  const int ms = std::atoi(read_line(fd).c_str());
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  write_all(fd, "late\n", 5);
  echo_until_eof(fd);
}

using Handler = void (*)(int);
constexpr Handler kHandlers[] = {echo_until_eof, serve_source, serve_reset,  serve_callback,
                                 serve_sink,     serve_silent, serve_delayed};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: sockets_peer BASE_PORT\n");
    return 2;
  }
  const int base = std::atoi(argv[1]);
  int i = 0;
  for (Handler handler : kHandlers) {
    int l = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(base + i++));
    if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(l, 64) != 0) {
      std::perror("sockets_peer: bind/listen");
      return 1;
    }
    std::thread([l, handler] {
      for (;;) {
        int fd = ::accept(l, nullptr, nullptr);
        if (fd < 0) continue;
        std::thread([fd, handler] {
          handler(fd);
          ::close(fd);
        }).detach();
      }
    }).detach();
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) ::pause();
}
