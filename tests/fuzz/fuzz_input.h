// FuzzInput: reads typed values off a fuzzer's input bytes, front to back, for the fuzz
// targets in tests/fuzz/targets/. Past the end every read returns zeros (never fails), so a
// target can interpret any input, including an empty one. A portable stand-in for clang's
// FuzzedDataProvider: the same target code is built by gcc for the corpus replay test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace vtas::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(data == nullptr ? 0 : size) {}

  bool empty() const { return pos_ >= size_; }
  size_t remaining() const { return size_ - pos_; }

  // Copies the next sizeof(T) bytes into a trivially copyable T (zero-filled past the end).
  template <class T>
  T take() {
    T value{};
    const size_t n = remaining() < sizeof(T) ? remaining() : sizeof(T);
    if (n > 0) std::memcpy(&value, data_ + pos_, n);
    pos_ += n;
    return value;
  }
  uint8_t u8() { return take<uint8_t>(); }
  uint16_t u16() { return take<uint16_t>(); }
  uint32_t u32() { return take<uint32_t>(); }
  uint64_t u64() { return take<uint64_t>(); }
  bool flag() { return (u8() & 1) != 0; }
  // A value in [0, n) (0 when n is 0).
  uint32_t below(uint32_t n) { return n == 0 ? 0 : u32() % n; }

  // The next `n` bytes (fewer at the end), pointing into the input.
  std::string_view bytes(size_t n) {
    if (n > remaining()) n = remaining();
    std::string_view out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }
  // A length-prefixed (u16) chunk of at most `max` bytes.
  std::string_view chunk(size_t max) { return bytes(u16() % (max + 1)); }
  std::string_view rest() { return bytes(remaining()); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace vtas::fuzz
