# Included by the top-level CMakeLists.txt when WEFT_BUILD_FUZZERS is ON, before src/: every
# target (libweft included) gets libFuzzer's coverage instrumentation, and AddressSanitizer +
# UndefinedBehaviorSanitizer unless WEFT_SANITIZE already chose sanitizers. The fuzz_* executables
# add -fsanitize=fuzzer at link time (fuzz/CMakeLists.txt).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "WEFT_BUILD_FUZZERS needs clang (libFuzzer): "
                      "cmake -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DWEFT_BUILD_FUZZERS=ON")
endif()
add_compile_options(-fsanitize=fuzzer-no-link)
if(NOT WEFT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
