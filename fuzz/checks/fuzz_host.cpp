#include "fuzz_host.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string_view>

#include "files/open_file.hpp"
#include "weft/reply.hpp"

namespace weft::fuzz {
namespace {

constexpr std::size_t kFileSize = 3000;
constexpr std::uint64_t kFileRangeOffset = 10;
constexpr std::uint64_t kFileRangeLength = 2000;
constexpr std::size_t kHandlerBigBody = 40'000;
constexpr std::size_t kLoopBigBody = 100'000;

constexpr std::size_t kMaxUpload = 100'000;

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

#if defined(WEFT_FUZZ_FILES)
// A small static site in a fresh temporary directory (one per host); returns its path.
std::string make_root() {
  namespace fs = std::filesystem;
  static int count = 0;
  const fs::path root = fs::temp_directory_path() /
                        ("weft-fuzz-root-" + std::to_string(::getpid()) + "-" + std::to_string(++count));
  fs::remove_all(root);
  fs::create_directories(root / "sub");
  fs::create_directories(root / "empty");
  std::string text(kFileSize, '\0');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
  std::ofstream(root / "a.txt") << text;
  std::ofstream(root / "a.txt.gz") << "not really gzip";
  std::ofstream(root / "index.html") << "<p>index</p>\n";
  std::ofstream(root / "sub" / "b.bin") << std::string(100, '\x01');
  std::ofstream(root / ".hidden") << "secret\n";
  return root.string();
}
#endif

Response run_handler(const Request& request, const std::string& file_path) {
  const std::string_view path = request.path();
  if (path == "/h/file") return Response::file(file_path, "text/plain");
  if (path == "/h/missing") return Response::file("/nonexistent/weft-fuzz");
  if (path == "/h/big") return Response::text(200, std::string(kHandlerBigBody, 'b'));
  if (path == "/h/204") return Response(204);
  if (path == "/h/304") return Response(304);
  return Response::text(200, std::string(request.body()));
}

// The endpoints run on the fuzzer's thread when the driver says so (run_pending).
class HandlerEndpoint final : public exchange::Endpoint {
 public:
  explicit HandlerEndpoint(const std::string& file_path) : file_path_(file_path) {}
  void start(Request request, Reply reply) const noexcept override {
    reply.send(run_handler(request, file_path_));
  }

 private:
  const std::string& file_path_;
};

class StreamEndpoint final : public exchange::Endpoint {
 public:
  explicit StreamEndpoint(StreamSlots& slots) : slots_(&slots) {}
  void start(Request request, Reply reply) const noexcept override {
    StreamSlots* slots = slots_;
    ResponseStream stream = reply.stream(Response(200).set_header("Content-Type", "text/plain"));
    const std::string_view path = request.path();
    if (path == "/st/hold") {
      // Holds a copy of itself in its cancel callback: detaching the exchange must break that cycle.
      stream.on_cancel([slots, at = slots->hold_at, self = stream]() mutable {
        ++slots->cut;
        slots->hold_cancelled_at = std::min(slots->hold_cancelled_at, at);
        self = ResponseStream();
      });
      stream.write("hold\n");
      slots->held.push_back(std::move(stream));
      return;
    }
    stream.on_cancel([slots] { ++slots->cut; });
    if (path == "/st/ready") {
      // Over the buffer limit at once: write() says wait; on_ready runs when the connection took
      // enough (on the loop, inside its take()), and the rest follows from there.
      if (!stream.write(std::string(70'000, 'r'))) {
        stream.on_ready([s = stream]() mutable {
          s.write(std::string(5000, 's'));
          s.end();
        });
      }
      return;
    }
    stream.write("a");
    stream.write(std::string(5000, 'b'));
    stream.write(std::string(70'000, 'c'));
    if (path == "/st/cut") {
      ++slots->cut;  // dropped below without end()
    } else if (path == "/st/late-cut") {
      ++slots->cut;
      slots->drop_next.push_back(std::move(stream));
    } else {
      stream.end();
    }
  }

 private:
  StreamSlots* slots_;
};

class UploadEndpoint final : public exchange::Endpoint {
 public:
  explicit UploadEndpoint(StreamSlots& slots) : slots_(&slots) {
    stream_body = true;
    max_body = kMaxUpload;
  }
  void start(Request request, Reply reply) const noexcept override {
    // Known leak (fuzz/findings/README.md): reading the body of an exchange the connection has
    // dropped already, with the pool refusing the delivery, keeps the callbacks forever.
    if (!slots_->strict && reply.cancelled()) return;
    if (request.path() == "/up/early") {
      reply.send(Response::text(403, "no\n"));
      return;
    }
    if (request.path() == "/up/echo") {
      // Answers at once with a stream and writes each body chunk back as it arrives (on the
      // delivery job); a body that does not complete drops the stream (cut short).
      StreamSlots* slots = slots_;
      ResponseStream stream =
          reply.stream(Response(200).set_header("Content-Type", "application/octet-stream"));
      stream.on_cancel([slots] { ++slots->cut; });
      if (!slots->strict) slots->kept_streams.push_back(stream);
      request.body_reader().read([stream](std::string_view chunk) mutable { stream.write(chunk); },
                                 [stream, slots](BodyEnd end) mutable {
                                   if (end == BodyEnd::complete) {
                                     stream.end();
                                   } else {
                                     ++slots->cut;
                                   }
                                 });
      return;
    }
    auto count = std::make_shared<std::uint64_t>(0);
    if (!slots_->strict) slots_->kept_replies.push_back(reply);
    request.body_reader().read([count](std::string_view chunk) { *count += chunk.size(); },
                               [count, r = std::move(reply)](BodyEnd end) mutable {
                                 if (end == BodyEnd::complete)
                                   r.send(Response::text(200, std::to_string(*count)));
                               });
  }

 private:
  StreamSlots* slots_;
};

}  // namespace

FuzzHost::FuzzHost(const Config& config, net::EventLoop& loop)
    : ConnectionHost(config, loop),
      file_(make_file()),
      fixed_(Response::text(200, "fixed\n")),
      prepared_(http::prepare_response(200, fixed_.headers(), "prepared\n", config.server_name)) {
  file_path_ = "/proc/self/fd/" + std::to_string(file_->get());
  streams_.strict = true;  // the bugs once tolerated are fixed (fuzz/findings/README.md)
  handler_ = std::make_unique<HandlerEndpoint>(file_path_);
  streamer_ = std::make_unique<StreamEndpoint>(streams_);
  uploader_ = std::make_unique<UploadEndpoint>(streams_);
#if defined(WEFT_FUZZ_FILES)
  root_ = make_root();
  StaticOptions options;
  options.open_file_cache_entries = 0;  // no descriptor may outlive a connection (leak check)
  static_ = std::make_unique<files::StaticDir>("/s", root_, options);
  static_->set_server_name(config.server_name);
  not_found_ = Response::html(404, "<p>not found</p>\n");
#endif
}

FuzzHost::~FuzzHost() {
#if defined(WEFT_FUZZ_FILES)
  static_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
#endif
}

void FuzzHost::begin(bool busy, bool multiplexed) {
  set_mode(http::HostMode::kRunning);
  log_.clear();
  pending_.clear();
  multiplexed_ = multiplexed;
  jobs_.clear();
  news_ = false;
  streams_.drop_next.clear();
  streams_.held.clear();
  streams_.cut = 0;
  streams_.hold_at = 0;
  streams_.hold_cancelled_at = SIZE_MAX;
  streams_.kept_replies.clear();
  streams_.kept_streams.clear();
  early_at_ = SIZE_MAX;
  dispatches_ = 0;
  offloads_ = 0;
  busy_ = busy;
  closed_ = false;
}

void FuzzHost::drain() {
  for (int i = 0; i < 100 && (!pending_.empty() || !jobs_.empty() || !streams_.drop_next.empty()); ++i) {
    streams_.drop_next.clear();
    std::vector<Dispatched> started;
    started.swap(pending_);
    for (Dispatched& d : started) d.endpoint->start(std::move(d.request), std::move(d.reply));
    std::vector<std::function<void()>> jobs;
    jobs.swap(jobs_);
    for (auto& job : jobs) job();
  }
  news_ = false;
  // The connection is gone: the last copies go now, outside any lock of the exchange.
  streams_.kept_replies.clear();
  streams_.kept_streams.clear();
}

bool FuzzHost::end_held() {
  std::vector<ResponseStream> held;
  held.swap(streams_.held);
  // The client has half-closed while these streams were held and the connection stayed open
  // because it holds bytes of a pipelined request (it cannot tell a client that left from one
  // still reading). Whether those bytes were read before the EOF was seen depends on how they
  // were cut, so the answers after the held streams' own may differ between the runs: a
  // connection that saw the EOF first closed as for a client gone (nginx's 499).
  if (!held.empty()) early_at_ = std::min(early_at_, log_.size() + held.size());
  for (ResponseStream& stream : held) stream.end();
  return !held.empty();
}

void FuzzHost::change_mode(http::HostMode mode, http::HostedConnection& connection) {
  set_mode(mode);
  connection.on_mode_change();
}

bool FuzzHost::run_pending(http::HostedConnection& connection) {
  bool ran = !streams_.drop_next.empty();
  streams_.drop_next.clear();  // /st/late-cut: cut now, a round after it started
  std::vector<Dispatched> started;
  started.swap(pending_);
  for (Dispatched& d : started) {
    d.endpoint->start(std::move(d.request), std::move(d.reply));
    ran = true;
  }
  std::vector<std::function<void()>> jobs;
  jobs.swap(jobs_);
  for (auto& job : jobs) job();
  ran = ran || !jobs.empty();
  if (news_ && !closed_) {
    news_ = false;
    connection.on_exchange_news();
    ran = true;
  }
  return ran;
}

http::Route FuzzHost::route(const http::RequestHead& head, std::string_view path) {
#if defined(WEFT_FUZZ_FILES)
  if (path == "/s" || path.starts_with("/s/")) return static_->serve(head, path, not_found_);
#else
  static_cast<void>(head);
#endif
  http::Route route;
  if (path.starts_with("/h")) {
    route.kind = http::Route::Kind::kHandle;
    route.endpoint = handler_.get();
    return route;
  }
  if (path.starts_with("/st")) {
    route.kind = http::Route::Kind::kHandle;
    route.endpoint = streamer_.get();
    return route;
  }
  if (path.starts_with("/up")) {
    route.kind = http::Route::Kind::kHandle;
    route.endpoint = uploader_.get();
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
  if (path == "/prepared") {
    route.prepared = &prepared_;
    return route;
  }
  if (path == "/big") {
    route.response = Response::text(200, std::string(kLoopBigBody, 'B'));
    return route;
  }
  route.response = Response::html(404, "<p>not found</p>\n");
  return route;
}

bool FuzzHost::dispatch(const exchange::Endpoint& endpoint, Request request, Reply reply) {
  if (busy_ && dispatches_++ % 2 == 0) return false;
  if (!pending_.empty() && !multiplexed_) throw std::logic_error("a second dispatch while a handler runs");
  if (&endpoint == uploader_.get() && (request.path() == "/up/early" || request.path() == "/up/echo"))
    early_at_ = std::min(early_at_, log_.size());
  if (&endpoint == streamer_.get()) streams_.hold_at = log_.size();
  pending_.push_back(Dispatched{&endpoint, std::move(request), std::move(reply)});
  return true;
}

bool FuzzHost::run_off_loop(std::function<void()> job) {
  // Two of three refused: the connection retries at once (refused again), then on a later turn.
  if (busy_ && offloads_++ % 3 != 2) return false;
  jobs_.push_back(std::move(job));
  return true;
}

void FuzzHost::post_news(std::uint64_t /*connection_id*/) { news_ = true; }

int FuzzHost::open_file_body(const Response& response, std::vector<http::BodyPart>& body) {
  files::OpenedFile opened = files::open_regular_file(response.file_path());
  if (opened.status == 200) body.push_back(http::BodyPart{{}, std::move(opened.fd), 0, opened.size});
  return opened.status;
}

void FuzzHost::access(const http::HostedConnection& /*connection*/, const http::AccessRecord& record) {
  const std::string_view method = record.method;
  const std::string_view target = record.target;
  const int status = record.status;
  const std::uint64_t body_bytes = record.body_bytes;
  log_.push_back({status, body_bytes, method == "HEAD", record.version_minor});
  // WEFT_FUZZ_TRACE=1 prints every response, to read what a saved input does.
  static const bool trace = std::getenv("WEFT_FUZZ_TRACE") != nullptr;
  if (trace) {
    std::fprintf(stderr, "fuzz_host: %.*s %.*s -> %d, %llu body bytes\n", static_cast<int>(method.size()),
                 method.data(), static_cast<int>(target.size()), target.data(), status,
                 static_cast<unsigned long long>(body_bytes));
  }
}

void FuzzHost::closed(http::HostedConnection& /*connection*/) { closed_ = true; }

}  // namespace weft::fuzz
