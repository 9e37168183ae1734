// Embedding weft::Server: a router whose handlers run on the pool.
//   hello_server [PORT]      (default 8080; 0 = any free port)
// Prints "listening on port N" once it accepts connections; SIGINT or
// SIGTERM drains and exits 0.
#include <weft/server.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  weft::Config config;
  config.port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
  config.loops = 1;
  config.threads = 2;
  weft::Server server(config);

  server.get("/hello/{name}", [](const weft::Request& req) {
    return weft::Response::text(200, "hi " + std::string(req.param("name")) + "\n");
  });
  server.post("/echo", [](const weft::Request& req) {
    return weft::Response::bytes(200, std::string(req.body()),
                                 req.header("content-type").value_or("text/plain"));
  });
  server.get("/add", [](const weft::Request& req) {
    const long a = std::atol(req.query_param("a").value_or("0").c_str());
    const long b = std::atol(req.query_param("b").value_or("0").c_str());
    return weft::Response::text(200, std::to_string(a + b) + "\n");
  });

  // Signals go to one thread that calls stop(); block them everywhere first.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server.start();
  std::printf("listening on port %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  std::thread([&server, signals] {
    int signo = 0;
    sigwait(&signals, &signo);
    server.stop();
  }).detach();
  server.wait();
  return 0;
}
