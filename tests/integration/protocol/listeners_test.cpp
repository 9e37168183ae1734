// Server::listen() before start() (bound, not serving yet), Config::listen_fds (sockets handed
// over by a supervisor, shared by every loop) and Server::duplicate_listeners() (the sockets a
// successor takes over), in process.

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <future>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/fd.hpp"
#include "support/http_client.hpp"
#include "support/live_server.hpp"
#include "weft/server.hpp"

namespace weft::test {
namespace {

// A blocking TCP socket on 127.0.0.1:0, listening when `listen` says so.
Fd loopback_socket(bool listen) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      (listen && ::listen(fd.get(), 64) != 0)) {
    throw std::runtime_error("cannot make a loopback socket");
  }
  return fd;
}

std::uint16_t port_of(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

void add_hello(Server& server) {
  server.get("/hello", [](const Request&) { return Response::text(200, "hello\n"); });
}

TEST(Listen, BindsWithoutServingUntilStart) {
  Server server(test_config());
  add_hello(server);
  server.listen();
  ASSERT_NE(server.port(), 0);
  // Bound: the kernel completes the handshake and holds the request, but nobody answers yet.
  Client client(server.port());
  ASSERT_TRUE(client.send(make_request("GET", "/hello")));
  EXPECT_FALSE(client.read_response(300ms)) << "answered before start()";
  EXPECT_THROW(server.listen(), std::logic_error);
  server.start();
  const auto response = client.read_response(5s);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello\n");
  server.stop();
  server.wait();
}

TEST(AdoptedListener, EveryLoopServesTheSocketAndLeavesItToTheCaller) {
  Fd socket = loopback_socket(true);
  Config config = test_config();
  config.loops = 4;
  config.listen_fds = {socket.get()};
  config.port = 1;  // ignored: nothing is bound
  Server server(config);
  add_hello(server);
  server.start();
  EXPECT_EQ(server.port(), port_of(socket.get()));
  // Made non-blocking: a loop that loses the race for a connection must not block in accept.
  EXPECT_NE(::fcntl(socket.get(), F_GETFL) & O_NONBLOCK, 0);

  std::vector<std::future<std::optional<HttpResponse>>> answers;
  for (int i = 0; i < 40; ++i) {
    answers.push_back(std::async(std::launch::async, [&server] { return get(server.port(), "/hello"); }));
  }
  for (auto& answer : answers) {
    const auto response = answer.get();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  server.stop();
  server.wait();
  // The caller's descriptor is still open and still listening: only the loops' copies closed.
  int listening = 0;
  socklen_t len = sizeof listening;
  ASSERT_EQ(::getsockopt(socket.get(), SOL_SOCKET, SO_ACCEPTCONN, &listening, &len), 0);
  EXPECT_EQ(listening, 1);
}

TEST(AdoptedListener, ADescriptorThatIsNotAListeningTcpSocketIsNamed) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  Fd read_end(pipe_fds[0]);
  Fd write_end(pipe_fds[1]);
  Fd unlistened = loopback_socket(false);
  Fd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const struct {
    int fd;
    std::string needle;
  } cases[] = {
      {read_end.get(), "descriptor " + std::to_string(read_end.get()) + " is not a socket"},
      {unlistened.get(),
       "descriptor " + std::to_string(unlistened.get()) + " is a socket that does not listen"},
      {udp.get(), "descriptor " + std::to_string(udp.get()) + " is not a TCP (stream) socket"},
      {1000, "descriptor 1000 is not open"},
  };
  for (const auto& c : cases) {
    Config config = test_config();
    config.listen_fds = {c.fd};
    Server server(config);
    try {
      server.start();
      ADD_FAILURE() << "started on " << c.needle;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
    }
  }
  Config negative = test_config();
  negative.listen_fds = {-1};
  EXPECT_THROW(Server{negative}, std::invalid_argument);
}

TEST(HandOver, DuplicatesEveryListenerForASuccessorUntilTheDrain) {
  Config config = test_config();
  config.loops = 3;
  Server old_server(config);
  add_hello(old_server);
  EXPECT_TRUE(old_server.duplicate_listeners().main.empty()) << "sockets before listen()";
  old_server.start();
  const Server::Listeners copies = old_server.duplicate_listeners();
  std::vector<Fd> owned;
  for (const int fd : copies.main) owned.emplace_back(fd);
  // One SO_REUSEPORT socket per loop, each with its own accept queue: all of them, or the
  // connections waiting in one that closes would be reset.
  ASSERT_EQ(copies.main.size(), 3U);
  EXPECT_TRUE(copies.redirect.empty());
  for (const int fd : copies.main) {
    EXPECT_EQ(port_of(fd), old_server.port());
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << "a copy that any exec would leak";
  }

  // The successor serves the same port from the copies; the old server drains and stops.
  Config next = test_config();
  next.loops = 2;
  next.listen_fds = copies.main;
  Server new_server(next);
  add_hello(new_server);
  new_server.start();
  EXPECT_EQ(new_server.port(), old_server.port());
  old_server.stop();
  EXPECT_TRUE(old_server.duplicate_listeners().main.empty()) << "sockets handed out while draining";
  old_server.wait();
  for (int i = 0; i < 20; ++i) {
    const auto response = get(new_server.port(), "/hello");
    ASSERT_TRUE(response) << "request " << i << " after the old server stopped";
    EXPECT_EQ(response->status, 200);
  }
  new_server.stop();
  new_server.wait();
}

TEST(HandOver, RedirectDescriptorsNeedARedirectPort) {
  Fd socket = loopback_socket(true);
  Config config = test_config();
  config.http_redirect_fds = {socket.get()};
  EXPECT_THROW(Server{config}, std::invalid_argument);
}

}  // namespace
}  // namespace weft::test
