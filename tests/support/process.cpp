#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <regex>
#include <stdexcept>
#include <string_view>
#include <system_error>

extern char** environ;

namespace weft::test {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

ExitStatus decode_status(int wstatus) {
  ExitStatus status;
  if (WIFEXITED(wstatus)) {
    status.exited = true;
    status.code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    status.signal = WTERMSIG(wstatus);
  }
  return status;
}

}  // namespace

std::string weft_binary() { return WEFT_BINARY; }

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/bin:/bin";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    std::string candidate(rest.substr(0, colon));
    candidate.append("/").append(name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
  }
  return {};
}

// ---------------------------------------------------------------- Process

Process::Process(const std::string& program, const std::vector<std::string>& args,
                 const std::vector<std::string>& env) {
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    throw_errno("pipe2");
  }
  Fd out_read(out[0]);
  Fd out_write(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) {
    throw_errno("pipe2");
  }
  Fd err_read(err[0]);
  Fd err_write(err[1]);

  std::vector<std::string> argv_storage;
  argv_storage.push_back(program);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  // The environment: the test's own, less every name that `env` sets or removes, plus `env`'s
  // settings.
  std::vector<std::string> env_storage;
  const auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const bool overridden = std::any_of(
        env.begin(), env.end(), [&](const std::string& change) { return name_of(change) == name_of(entry); });
    if (!overridden) env_storage.emplace_back(entry);
  }
  for (const std::string& change : env) {
    if (change.find('=') != std::string::npos) env_storage.push_back(change);
  }
  std::vector<char*> envp;
  for (auto& entry : env_storage) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // dup2 clears FD_CLOEXEC on the target; every other descriptor of ours closes on exec.
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), STDERR_FILENO);

  // The child starts with no blocked signals and default dispositions, whatever the test runner has.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  const int rc = ::posix_spawn(&pid_, program.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = -1;
    throw std::system_error(rc, std::generic_category(), "posix_spawn " + program);
  }
  for (int fd : {out_read.get(), err_read.get()}) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  out_pipe_ = std::move(out_read);
  err_pipe_ = std::move(err_read);
}

Process::~Process() { kill(); }

void Process::pump(milliseconds timeout) {
  pollfd fds[2];
  nfds_t count = 0;
  for (Fd* pipe : {&out_pipe_, &err_pipe_}) {
    if (pipe->valid()) {
      fds[count++] = {pipe->get(), POLLIN, 0};
    }
  }
  const int rc = ::poll(fds, count, static_cast<int>(timeout.count()));
  if (rc <= 0) {
    return;
  }
  for (Fd* pipe : {&out_pipe_, &err_pipe_}) {
    std::string& sink = pipe == &out_pipe_ ? out_ : err_;
    while (pipe->valid()) {
      char chunk[4096];
      const ssize_t n = ::read(pipe->get(), chunk, sizeof chunk);
      if (n > 0) {
        sink.append(chunk, static_cast<std::size_t>(n));
      } else if (n == 0) {
        pipe->reset();  // EOF
      } else if (errno == EINTR) {
        continue;
      } else {
        if (errno != EAGAIN) {
          pipe->reset();
        }
        break;
      }
    }
  }
}

bool Process::try_reap() {
  if (status_) {
    return true;
  }
  int wstatus = 0;
  const pid_t rc = ::waitpid(pid_, &wstatus, WNOHANG);
  if (rc == pid_) {
    status_ = decode_status(wstatus);
    return true;
  }
  if (rc < 0 && errno == ECHILD) {
    status_ = ExitStatus{};
    return true;
  }
  return false;
}

std::optional<std::string> Process::read_stdout_line(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto newline = out_.find('\n', out_consumed_);
    if (newline != std::string::npos) {
      std::string line = out_.substr(out_consumed_, newline - out_consumed_);
      out_consumed_ = newline + 1;
      return line;
    }
    if (!out_pipe_.valid() || Clock::now() >= deadline) {
      return std::nullopt;
    }
    pump(std::min<milliseconds>(milliseconds(ms_left(deadline)), 50ms));
  }
}

bool Process::wait_for_stderr(std::string_view text, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (err_.find(text) != std::string::npos) {
      return true;
    }
    if (!err_pipe_.valid() || Clock::now() >= deadline) {
      return false;
    }
    pump(std::min<milliseconds>(milliseconds(ms_left(deadline)), 50ms));
  }
}

void Process::send_signal(int signo) {
  if (!try_reap()) {
    ::kill(pid_, signo);
  }
}

std::optional<ExitStatus> Process::wait_exit(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!try_reap()) {
    if (Clock::now() >= deadline) {
      return std::nullopt;
    }
    pump(std::min<milliseconds>(milliseconds(ms_left(deadline)), 10ms));
  }
  // The child is gone: collect the rest of its output (bounded, in case something inherited the pipes).
  const auto drain_deadline = Clock::now() + 1s;
  while ((out_pipe_.valid() || err_pipe_.valid()) && Clock::now() < drain_deadline) {
    pump(10ms);
  }
  return status_;
}

void Process::kill() {
  if (pid_ <= 0 || try_reap()) {
    return;
  }
  ::kill(pid_, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid_, &wstatus, 0) < 0 && errno == EINTR) {
  }
  status_ = decode_status(wstatus);
}

RunResult run_weft(const std::vector<std::string>& args, milliseconds timeout) {
  Process process(weft_binary(), args);
  RunResult result;
  result.status = process.wait_exit(timeout);
  process.kill();
  result.out = process.out();
  result.err = process.err();
  return result;
}

// ---------------------------------------------------------------- WeftServer

WeftServer::WeftServer(std::vector<std::string> args, const std::vector<std::string>& env) {
  args.insert(args.begin(), {"--port", "0"});
  process_ = std::make_unique<Process>(weft_binary(), args, env);
  // Generous: a sanitizer build starts slowly on a loaded CI machine.
  auto line = process_->read_stdout_line(10s);
  if (!line) {
    process_->wait_exit(100ms);
    throw std::runtime_error("weft did not print its listening line; stderr: " + process_->err());
  }
  line_ = *line;
  static const std::regex url(R"(https?://(\[[^\]]+\]|[^/:\[\]]+):([0-9]+)/)");
  std::smatch match;
  unsigned port = 0;
  if (!std::regex_search(line_, match, url) ||
      std::from_chars(match[2].first.base(), match[2].second.base(), port).ec != std::errc{} || port == 0 ||
      port > 65535) {
    throw std::runtime_error("no http(s)://HOST:PORT/ in the listening line: " + line_);
  }
  port_ = static_cast<std::uint16_t>(port);
}

}  // namespace weft::test
