// The regression runner linked with a fuzz target when libFuzzer is not
// available: it runs every file of a corpus directory, every prefix of each,
// then a fixed number of deterministic mutations of them. Each input sits in
// a heap block of exactly its size, so ASan sees any read past the end.
//
//   fuzz_<target> CORPUS_DIR [MUTATIONS] [SEED]
//   fuzz_<target> FILE...      (runs just these inputs, once: a reproducer)
//
// When an input fails (an abort, a crash, a sanitizer report), it is written
// to $MYWIRE_FUZZ_CRASH (default: fuzz-crash.bin in the current directory)
// so that it can be replayed as a FILE.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fuzz.hpp"

namespace {

std::uint64_t state;

std::uint64_t next() {  // xorshift64*
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
}
std::size_t below(std::size_t n) { return n ? static_cast<std::size_t>(next() % n) : 0; }

// The input being run, for save_crash().
const std::string *current;
const char *crash_path = "fuzz-crash.bin";

// Async-signal-safe: open, write, close.
void save_crash() {
    static bool saved;
    if (!current || saved) return;
    saved = true;
    int fd = ::open(crash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    std::size_t done = 0;
    while (done < current->size()) {
        ssize_t n = ::write(fd, current->data() + done, current->size() - done);
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    const char msg[] = "fuzz runner: the failing input was written to ";
    (void)!::write(2, msg, sizeof msg - 1);
    (void)!::write(2, crash_path, std::strlen(crash_path));
    (void)!::write(2, "\n", 1);
}

void on_signal(int sig) {
    save_crash();
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

void run(const std::string &input) {
    std::unique_ptr<std::uint8_t[]> exact(new std::uint8_t[input.size() ? input.size() : 1]);
    std::memcpy(exact.get(), input.data(), input.size());
    current = &input;
    LLVMFuzzerTestOneInput(exact.get(), input.size());
    current = nullptr;
}

// Bytes that mean something to the protocol: lenenc markers, NUL, ERR/OK headers.
const std::uint8_t interesting[] = {0x00, 0x01, 0x02, 0x0A, 0x23, 0x25, 0x3A, 0x40, 0x7F,
                                    0x80, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF};

void mutate(std::string &s, const std::vector<std::string> &seeds) {
    int rounds = 1 + static_cast<int>(below(4));
    for (int r = 0; r < rounds; ++r) {
        switch (below(9)) {
        case 0:  // flip a bit
            if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1u << below(8));
            break;
        case 1:  // an interesting byte
            if (!s.empty()) s[below(s.size())] = static_cast<char>(interesting[below(sizeof interesting)]);
            break;
        case 2:  // insert bytes
            s.insert(below(s.size() + 1), 1 + below(4), static_cast<char>(interesting[below(sizeof interesting)]));
            break;
        case 3:  // delete a range
            if (!s.empty()) {
                std::size_t at = below(s.size());
                s.erase(at, 1 + below(std::min<std::size_t>(8, s.size() - at)));
            }
            break;
        case 4:  // truncate
            s.resize(below(s.size() + 1));
            break;
        case 5:  // duplicate a chunk
            if (!s.empty()) {
                std::size_t at = below(s.size());
                std::size_t n = 1 + below(std::min<std::size_t>(16, s.size() - at));
                s.insert(below(s.size() + 1), s.substr(at, n));
            }
            break;
        case 6: {  // a little-endian integer of 1..4 bytes (lengths, counts)
            if (s.empty()) break;
            std::size_t at = below(s.size());
            std::uint32_t v = below(2) ? static_cast<std::uint32_t>(next()) : static_cast<std::uint32_t>(below(300));
            for (std::size_t k = 0, n = 1 + below(4); k < n && at + k < s.size(); ++k)
                s[at + k] = static_cast<char>(v >> (8 * k));
            break;
        }
        case 7:  // splice with another seed
            if (!seeds.empty()) {
                const std::string &o = seeds[below(seeds.size())];
                std::size_t cut = below(s.size() + 1);
                s = s.substr(0, cut) + o.substr(below(o.size() + 1));
            }
            break;
        default:  // a random byte
            if (!s.empty()) s[below(s.size())] = static_cast<char>(next());
            break;
        }
    }
}

}  // namespace

// Called by ASan/UBSan before they exit on a report (weak: absent without them).
extern "C" void __sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS] [SEED]\n", argv[0]);
        return 2;
    }
    if (const char *p = std::getenv("MYWIRE_FUZZ_CRASH"); p && *p) crash_path = p;
    if (std::filesystem::is_regular_file(argv[1])) {  // replaying files: nothing to save
        for (int i = 1; i < argc; ++i) {
            std::ifstream f(argv[i], std::ios::binary);
            run(std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()));
            std::printf("%s: %s: no failure\n", argv[0], argv[i]);
        }
        return 0;
    }
    long mutations = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 20000;
    state = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0x9E3779B97F4A7C15ull;
    if (state == 0) state = 1;

    std::vector<std::string> seeds;
    std::vector<std::filesystem::path> files;
    for (const auto &e : std::filesystem::directory_iterator(argv[1]))
        if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());  // the same order every run
    for (const auto &p : files) {
        std::ifstream f(p, std::ios::binary);
        seeds.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, on_signal);
    if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(save_crash);
    if (seeds.empty()) {
        std::fprintf(stderr, "%s: no corpus files in %s\n", argv[0], argv[1]);
        return 1;
    }
    std::size_t runs = 0;
    for (const auto &s : seeds) {
        for (std::size_t n = 0; n <= s.size(); ++n, ++runs) run(s.substr(0, n));
    }
    for (long i = 0; i < mutations; ++i, ++runs) {
        std::string s = seeds[below(seeds.size())];
        mutate(s, seeds);
        run(s);
    }
    for (int i = 0; i < 500; ++i, ++runs) {  // plain noise
        std::string s(below(64), '\0');
        for (char &c : s) c = static_cast<char>(next());
        run(s);
    }
    std::printf("%s: %zu seeds, %zu inputs, no failure\n", argv[0], seeds.size(), runs);
    return 0;
}
