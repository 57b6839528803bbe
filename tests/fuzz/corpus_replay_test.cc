// Replays the checked-in corpus of every fuzz target (tests/fuzz/corpus/<target>/: seeds and
// the reproducers of bugs found) through the target function, so a regression fails a unit
// test without clang or libFuzzer. One test per target (FuzzCorpus.<target>); a broken check
// aborts the process, and ctest runs each test in its own process, so the failure names the
// target and the file (printed before each input).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_targets.h"

namespace vtas::fuzz {
namespace {

struct Target {
  const char* name;
  int (*run)(const uint8_t*, size_t);
};

// Reproducers of known, not yet fixed bugs in vtas code: skipped until the fix lands, each
// with the TODO that removes it (target/file -> why).
struct KnownBug {
  const char* target;
  const char* file;
  const char* todo;
};
constexpr KnownBug kKnownBugs[] = {
    {"", "", ""},  // placeholder so the array is never empty
};

const KnownBug* known_bug(const std::string& target, const std::string& file) {
  for (const KnownBug& bug : kKnownBugs) {
    if (target == bug.target && file == bug.file) return &bug;
  }
  return nullptr;
}

std::vector<std::filesystem::path> corpus_files(const std::string& target) {
  std::vector<std::filesystem::path> files;
  const std::filesystem::path dir = std::filesystem::path(VTAS_FUZZ_CORPUS_DIR) / target;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void replay_corpus(const Target& target) {
  const std::vector<std::filesystem::path> files = corpus_files(target.name);
  ASSERT_FALSE(files.empty()) << "no seed corpus in " << VTAS_FUZZ_CORPUS_DIR << "/"
                              << target.name;
  size_t replayed = 0;
  for (const auto& file : files) {
    if (const KnownBug* bug = known_bug(target.name, file.filename().string())) {
      std::fprintf(stderr, "skipping %s: %s\n", file.c_str(), bug->todo);
      continue;
    }
    std::ifstream in(file, std::ios::binary);
    ASSERT_TRUE(in) << "cannot read " << file;
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", file.c_str(), bytes.size());
    EXPECT_EQ(target.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0)
        << file;
    ++replayed;
  }
  EXPECT_GT(replayed, 0u);
}

// One plain test per target (not value-parameterized: ctest names stay readable and stable).
#define VTAS_FUZZ_CORPUS_TEST(name) \
  TEST(FuzzCorpus, name) { replay_corpus(Target{#name, &fuzz_##name}); }
VTAS_FUZZ_TARGETS(VTAS_FUZZ_CORPUS_TEST)
#undef VTAS_FUZZ_CORPUS_TEST

}  // namespace
}  // namespace vtas::fuzz
