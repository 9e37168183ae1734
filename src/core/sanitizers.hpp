#pragma once
// Whether this build runs under AddressSanitizer (GCC defines __SANITIZE_ADDRESS__, clang answers
// __has_feature): code that recycles memory itself turns that off there, so that a use after
// free still reads freed memory. The macro serves the preprocessor (an include of
// <sanitizer/asan_interface.h>), the constant everything else.

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_ADDRESS_SANITIZER 1
#endif
#endif

namespace weft::core {

#if defined(WEFT_ADDRESS_SANITIZER)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace weft::core
