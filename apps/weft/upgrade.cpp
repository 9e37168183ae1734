#include "upgrade.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "weft/log.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace weft::app {
namespace {

constexpr const char* kListenVar = "WEFT_INHERITED_FDS";
constexpr const char* kRedirectVar = "WEFT_INHERITED_REDIRECT_FDS";
constexpr const char* kReadyVar = "WEFT_UPGRADE_READY_FD";
constexpr std::string_view kReadyWord = "ready";
// The first descriptor handed over, as systemd's sd_listen_fds(3).
constexpr int kFirstFd = 3;

std::string errno_text(int err) { return std::generic_category().message(err); }

// Read and changed only at start-up, before the program creates a thread (handed_over() says
// so): getenv and unsetenv race with nothing then.
const char* environment(const char* name) {
  return std::getenv(name);  // NOLINT(concurrency-mt-unsafe): start-up only, see above
}

// "3,4,5" -> {3, 4, 5}; nullopt for anything else (an empty list included).
std::optional<std::vector<int>> parse_fds(std::string_view text) {
  std::vector<int> fds;
  for (;;) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    int fd = -1;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), fd);
    if (item.empty() || ec != std::errc{} || end != item.data() + item.size() || fd < kFirstFd) {
      return std::nullopt;
    }
    fds.push_back(fd);
    if (comma == std::string_view::npos) return fds;
    text.remove_prefix(comma + 1);
  }
}

std::string join_fds(int first, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) {
    text += (i == 0 ? "" : ",") + std::to_string(first + static_cast<int>(i));
  }
  return text;
}

bool is_ours(std::string_view entry) {
  const std::initializer_list<std::string_view> names = {kListenVar, kRedirectVar, kReadyVar};
  return std::any_of(names.begin(), names.end(), [entry](std::string_view n) {
    return entry.size() > n.size() && entry.substr(0, n.size()) == n && entry[n.size()] == '=';
  });
}

// "exited with status 1", "was killed by SIGKILL".
std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return "was killed by " +
           (name != nullptr ? "SIG" + std::string(name) : std::to_string(WTERMSIG(status)));
  }
  return "ended";
}

int ms_until(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Owned descriptors of one attempt, closed on every way out.
class Fds {
 public:
  Fds() = default;
  ~Fds() {
    for (const int fd : fds_) ::close(fd);
  }
  Fds(const Fds&) = delete;
  Fds& operator=(const Fds&) = delete;
  Fds(Fds&&) = delete;
  Fds& operator=(Fds&&) = delete;
  int add(int fd) {
    fds_.push_back(fd);
    return fd;
  }
  void close(int fd) {
    const auto it = std::find(fds_.begin(), fds_.end(), fd);
    if (it != fds_.end()) {
      ::close(fd);
      fds_.erase(it);
    }
  }

 private:
  std::vector<int> fds_;
};

// posix_spawn's attribute and file-action objects, destroyed on every way out.
struct SpawnSetup {
  posix_spawnattr_t attr{};
  posix_spawn_file_actions_t actions{};
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  SpawnSetup(SpawnSetup&&) = delete;
  SpawnSetup& operator=(SpawnSetup&&) = delete;
};

}  // namespace

std::string own_path(const char* argv0) {
  namespace fs = std::filesystem;
  const std::string name = argv0 != nullptr ? argv0 : "";
  std::error_code ec;
  if (name.find('/') != std::string::npos) {
    const fs::path path = fs::absolute(name, ec);
    if (!ec) return path.lexically_normal().string();
  } else if (!name.empty()) {
    const char* search = environment("PATH");
    std::string_view dirs = search != nullptr ? search : "/usr/local/bin:/usr/bin:/bin";
    for (;;) {
      const std::size_t colon = dirs.find(':');
      const std::string_view dir = dirs.substr(0, colon);
      const fs::path candidate = fs::path(dir.empty() ? "." : std::string(dir)) / name;
      struct stat st {};
      if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          ::access(candidate.c_str(), X_OK) == 0) {
        const fs::path path = fs::absolute(candidate, ec);
        if (!ec) return path.lexically_normal().string();
      }
      if (colon == std::string_view::npos) break;
      dirs.remove_prefix(colon + 1);
    }
  }
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? name : exe.string();
}

std::variant<HandOver, std::string> handed_over() {
  HandOver handover;
  const char* listen_text = environment(kListenVar);
  const char* redirect_text = environment(kRedirectVar);
  const char* ready_text = environment(kReadyVar);
  if (listen_text == nullptr && redirect_text == nullptr && ready_text == nullptr) return handover;
  if (listen_text == nullptr || ready_text == nullptr) {
    return std::string(kListenVar) + " and " + kReadyVar + " come together (set by weft for the process " +
           "it starts on SIGUSR2); one is missing";
  }
  const auto listen = parse_fds(listen_text);
  if (!listen) {
    return std::string(kListenVar) + ": expected descriptors (3 or more) separated by commas, got '" +
           listen_text + "'";
  }
  std::vector<int> redirect;
  if (redirect_text != nullptr) {
    const auto parsed = parse_fds(redirect_text);
    if (!parsed) {
      return std::string(kRedirectVar) + ": expected descriptors (3 or more) separated by commas, got '" +
             redirect_text + "'";
    }
    redirect = *parsed;
  }
  const auto ready = parse_fds(ready_text);
  if (!ready || ready->size() != 1) {
    return std::string(kReadyVar) + ": expected one descriptor (3 or more), got '" + ready_text + "'";
  }
  std::vector<int> all = *listen;
  all.insert(all.end(), redirect.begin(), redirect.end());
  all.push_back(ready->front());
  for (const int fd : all) {
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
      return "descriptor " + std::to_string(fd) + " handed over by the previous process is not open";
    }
  }
  for (const char* name : {kListenVar, kRedirectVar, kReadyVar}) {
    ::unsetenv(name);  // NOLINT(concurrency-mt-unsafe): start-up only, see environment()
  }
  handover.listen_fds = *listen;
  handover.redirect_fds = std::move(redirect);
  handover.ready_fd = ready->front();
  return handover;
}

void tell_ready(HandOver& handover) noexcept {
  if (handover.ready_fd < 0) return;
  ssize_t n = -1;
  do {
    n = ::write(handover.ready_fd, kReadyWord.data(), kReadyWord.size());
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(kReadyWord.size())) {
    log(LogLevel::error, "cannot tell the previous process that this one is ready: " +
                             (n < 0 ? errno_text(errno) : std::string("short write")));
  }
  ::close(handover.ready_fd);
  handover.ready_fd = -1;
}

Upgrader::Upgrader(Options options) : options_(std::move(options)) {
  cancel_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (cancel_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

Upgrader::~Upgrader() {
  close();
  ::close(cancel_fd_);
}

void Upgrader::close() noexcept {
  stop();
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    thread.swap(thread_);
  }
  if (thread.joinable()) thread.join();
}

void Upgrader::start(std::function<void()> handed_over) {
  std::lock_guard lock(mutex_);
  if (stopped_) {
    log(LogLevel::warn, "SIGUSR2 received while draining: no upgrade");
    return;
  }
  if (successor_ != 0) {
    log(LogLevel::warn, "SIGUSR2 received: already handed over to process " + std::to_string(successor_));
    return;
  }
  if (running_) {
    log(LogLevel::warn, "SIGUSR2 received while an upgrade is in progress: ignored");
    return;
  }
  if (thread_.joinable()) thread_.join();  // the previous, failed attempt: its thread has ended
  running_ = true;
  log(LogLevel::info, "SIGUSR2 received: starting " + options_.path + " to take over");
  thread_ = std::thread([this, done = std::move(handed_over)] {
    attempt(done);
    std::lock_guard end(mutex_);
    running_ = false;
  });
}

void Upgrader::stop() noexcept {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  const std::uint64_t one = 1;
  if (::write(cancel_fd_, &one, sizeof one) < 0) {
    // Only a full counter (impossible: it is written once per stop) fails; the attempt still ends
    // by its own timeout.
  }
}

pid_t Upgrader::successor() const {
  std::lock_guard lock(mutex_);
  return successor_;
}

void Upgrader::attempt(const std::function<void()>& handed_over) {
  const std::string self = "still serving as process " + std::to_string(::getpid());
  const auto fail = [&](const std::string& why) {
    log(LogLevel::error, "upgrade failed, " + self + ": " + why);
  };
  Fds owned;
  Server::Listeners listeners;
  try {
    listeners = options_.server->duplicate_listeners();
  } catch (const std::exception& e) {
    fail(std::string("cannot duplicate the listening sockets: ") + e.what());
    return;
  }
  for (const int fd : listeners.main) owned.add(fd);
  for (const int fd : listeners.redirect) owned.add(fd);
  if (listeners.main.empty()) {
    fail("the server no longer listens");
    return;
  }
  int pipe_fds[2] = {-1, -1};
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    fail("pipe: " + errno_text(errno));
    return;
  }
  const int ready_read = owned.add(pipe_fds[0]);
  const int ready_write = owned.add(pipe_fds[1]);

  // What the new process inherits, in order: its descriptors 3, 4, ...
  std::vector<int> passed = listeners.main;
  passed.insert(passed.end(), listeners.redirect.begin(), listeners.redirect.end());
  passed.push_back(ready_write);
  const auto count = passed.size();
  const int first_redirect = kFirstFd + static_cast<int>(listeners.main.size());
  const int ready_fd = kFirstFd + static_cast<int>(count) - 1;

  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!is_ours(*e)) env.emplace_back(*e);
  }
  env.push_back(std::string(kListenVar) + "=" + join_fds(kFirstFd, listeners.main.size()));
  if (!listeners.redirect.empty()) {
    env.push_back(std::string(kRedirectVar) + "=" + join_fds(first_redirect, listeners.redirect.size()));
  }
  env.push_back(std::string(kReadyVar) + "=" + std::to_string(ready_fd));
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args{options_.path};
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  SpawnSetup setup;
  // Two moves, so that no target overwrites a source still to be moved: first above every
  // descriptor involved, then down to 3, 4, ...; everything else is closed. dup2 clears
  // close-on-exec on its target.
  const int high =
      std::max(*std::max_element(passed.begin(), passed.end()), kFirstFd + static_cast<int>(count)) + 1;
  for (std::size_t i = 0; i < count; ++i) {
    posix_spawn_file_actions_adddup2(&setup.actions, passed[i], high + static_cast<int>(i));
  }
  for (std::size_t i = 0; i < count; ++i) {
    posix_spawn_file_actions_adddup2(&setup.actions, high + static_cast<int>(i),
                                     kFirstFd + static_cast<int>(i));
  }
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, kFirstFd + static_cast<int>(count));
  // The new binary starts as from a shell: no signal blocked, none ignored (this process blocks
  // its signals for the signalfd and ignores SIGPIPE; both would be inherited).
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t child = 0;
  if (const int rc =
          posix_spawn(&child, options_.path.c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
      rc != 0) {
    fail("cannot start " + options_.path + ": " + errno_text(rc));
    return;
  }
  // Only the new process holds the write end now: its exit is an end of file.
  owned.close(ready_write);
  for (const int fd : listeners.main) owned.close(fd);
  for (const int fd : listeners.redirect) owned.close(fd);
  const std::string who = options_.path + " (process " + std::to_string(child) + ")";
  // glibc 2.36's <sys/pidfd.h> lacks extern "C": the system call itself.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
  if (pidfd >= 0) owned.add(pidfd);

  // Waits until the new process has ended, at most `grace`; true once it is reaped.
  const auto reap_within = [&](std::chrono::milliseconds grace, int* status) {
    const auto deadline = std::chrono::steady_clock::now() + grace;
    for (;;) {
      const pid_t r = ::waitpid(child, status, WNOHANG);
      if (r == child || (r < 0 && errno != EINTR)) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (pidfd >= 0) {
        pollfd p{pidfd, POLLIN, 0};
        ::poll(&p, 1, ms_until(deadline));
      } else {
        ::poll(nullptr, 0, 10);  // no pidfd (old kernel): look again shortly
      }
    }
  };
  // Stops a new process that will not take over: SIGTERM (it drains what it accepted), then
  // SIGKILL; always reaped.
  const auto stop_child = [&] {
    int status = 0;
    ::kill(child, SIGTERM);
    if (!reap_within(kStopGrace, &status)) {
      ::kill(child, SIGKILL);
      reap_within(std::chrono::hours(1), &status);
    }
  };

  const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
  std::string said;
  for (;;) {
    pollfd fds[2] = {{ready_read, POLLIN, 0}, {cancel_fd_, POLLIN, 0}};
    const int rc = ::poll(fds, 2, ms_until(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if ((fds[1].revents & POLLIN) != 0) {
      stop_child();
      log(LogLevel::warn, "upgrade abandoned, draining: stopped " + who + " before it was ready");
      return;
    }
    if (rc <= 0) {
      stop_child();
      fail(who + " was not ready within " + std::to_string(options_.ready_timeout.count() / 1000) +
           " s; stopped it");
      return;
    }
    char buffer[16];
    const ssize_t n = ::read(ready_read, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) {
      said.append(buffer, static_cast<std::size_t>(n));
      if (said.find(kReadyWord) == std::string::npos) continue;
      break;
    }
    // End of file without "ready": the new process ended (or closed the pipe and lingers).
    int status = 0;
    if (reap_within(std::chrono::milliseconds(ms_until(deadline)), &status)) {
      fail(who + " " + describe_status(status) + " before it was ready");
    } else {
      stop_child();
      fail(who + " closed its ready pipe without a word; stopped it");
    }
    return;
  }
  {
    std::lock_guard lock(mutex_);
    successor_ = child;
  }
  log(LogLevel::info,
      "upgrade: " + who + " is ready and serves; draining this process (" + std::to_string(::getpid()) + ")");
  handed_over();
}

}  // namespace weft::app
