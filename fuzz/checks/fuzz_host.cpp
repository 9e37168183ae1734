#include "fuzz_host.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <stdexcept>
#include <string_view>

namespace weft::fuzz {
namespace {

constexpr std::size_t kFileSize = 3000;
constexpr std::uint64_t kFileRangeOffset = 10;
constexpr std::uint64_t kFileRangeLength = 2000;
constexpr std::size_t kHandlerBigBody = 40'000;
constexpr std::size_t kLoopBigBody = 100'000;

// The handler kinds, told apart by their address (Route::handler is opaque to the connection).
constexpr char kHandlerTag = 'h';

std::shared_ptr<const net::UniqueFd> make_file() {
  net::UniqueFd fd(::memfd_create("weft-fuzz-file", MFD_CLOEXEC));
  if (!fd) throw std::runtime_error("memfd_create failed");
  std::string bytes(kFileSize, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>('a' + i % 26);
  if (::write(fd.get(), bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
    throw std::runtime_error("memfd write failed");
  }
  return std::make_shared<const net::UniqueFd>(std::move(fd));
}

Response run_handler(const Request& request, const std::string& file_path) {
  const std::string_view path = request.path();
  if (path == "/h/file") return Response::file(file_path, "text/plain");
  if (path == "/h/missing") return Response::file("/nonexistent/weft-fuzz");
  if (path == "/h/big") return Response::text(200, std::string(kHandlerBigBody, 'b'));
  if (path == "/h/204") return Response(204);
  if (path == "/h/304") return Response(304);
  return Response::text(200, std::string(request.body()));
}

}  // namespace

FuzzHost::FuzzHost(const Config& config, net::EventLoop& loop)
    : ConnectionHost(config, loop), file_(make_file()), fixed_(Response::text(200, "fixed\n")) {
  file_path_ = "/proc/self/fd/" + std::to_string(file_->get());
}

FuzzHost::~FuzzHost() = default;

void FuzzHost::begin(bool busy) {
  set_mode(http::HostMode::kRunning);
  log_.clear();
  pending_.reset();
  busy_ = busy;
  closed_ = false;
}

void FuzzHost::change_mode(http::HostMode mode, http::Connection& connection) {
  set_mode(mode);
  connection.on_mode_change();
}

bool FuzzHost::run_pending(http::Connection& connection) {
  if (!pending_) return false;
  const Request request = std::move(*pending_);
  pending_.reset();
  if (!closed_) connection.complete(run_handler(request, file_path_));
  return true;
}

http::Route FuzzHost::route(const http::RequestHead& /*head*/, std::string_view path) {
  http::Route route;
  if (path.starts_with("/h")) {
    route.kind = http::Route::Kind::kHandle;
    route.handler = &kHandlerTag;
    return route;
  }
  if (path == "/f") {
    route.response = Response::bytes(200, {}, "text/plain");
    route.body.push_back(http::BodyPart{"head-", {}, 0, 0});
    route.body.push_back(http::BodyPart{{}, file_, kFileRangeOffset, kFileRangeLength});
    route.body.push_back(http::BodyPart{"-tail", {}, 0, 0});
    return route;
  }
  if (path == "/fixed") {
    route.fixed = &fixed_;
    return route;
  }
  if (path == "/big") {
    route.response = Response::text(200, std::string(kLoopBigBody, 'B'));
    return route;
  }
  route.response = Response::html(404, "<p>not found</p>\n");
  return route;
}

bool FuzzHost::dispatch(http::Connection& /*connection*/, const void* handler, Request request) {
  if (handler != &kHandlerTag) throw std::logic_error("dispatch of an unknown handler");
  if (busy_) return false;
  if (pending_) throw std::logic_error("a second dispatch while a handler runs");
  pending_ = std::move(request);
  return true;
}

void FuzzHost::access(const http::Connection& /*connection*/, std::string_view /*method*/,
                      std::string_view /*target*/, int /*version_minor*/, int status, std::uint64_t body_bytes) {
  log_.push_back({status, body_bytes});
}

void FuzzHost::closed(http::Connection& /*connection*/) { closed_ = true; }

}  // namespace weft::fuzz
