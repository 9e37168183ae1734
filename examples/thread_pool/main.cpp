// weft::ThreadPool on its own: fan work out, collect results through futures,
// and let the destructor drain and join (the seed's graceful shutdown).
#include <weft/thread_pool.hpp>

#include <cstdio>
#include <future>
#include <vector>

int main() {
  weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 4, .max_queued = 256});
  std::vector<std::future<long>> parts;
  for (long i = 0; i < 1000; ++i) parts.push_back(pool.submit([i] { return i * i; }));
  long sum = 0;
  for (auto& part : parts) sum += part.get();
  std::printf("sum of squares 0..999 = %ld on %zu workers\n", sum, pool.size());
  return sum == 332833500 ? 0 : 1;
}
