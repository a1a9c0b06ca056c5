#include "io/system.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "proto/auth.hpp"  // max_pem_size

namespace mywire::io {

namespace {
template <class... Parts>
std::string cat(const Parts &...parts) {
    std::string out;
    (out.append(std::string_view(parts)), ...);
    return out;
}
}  // namespace

const std::string &os_name() {
    static const std::string os = [] {  // once per process (thread-safe)
        utsname uts{};
        return std::string(::uname(&uts) == 0 ? uts.sysname : "unknown");
    }();
    return os;
}

long process_id() { return static_cast<long>(::getpid()); }

// Reads the user's pinned key: a regular file of at most proto::max_pem_size bytes.
Errc read_key_file(std::string_view plugin, std::string_view path, std::string &pem, Error &err) {
    std::string p(path);
    auto fail = [&](std::string_view why) {
        return err.set(Errc::auth,
                       cat(plugin, ": cannot read server_public_key_path \"", p, "\": ", why));
    };
    if (p.find('\0') != std::string::npos) return fail("the path contains a NUL byte");
    // O_NONBLOCK: a FIFO must not hang the connect.
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return fail(std::generic_category().message(errno));
    struct stat st {};
    Errc rc = Errc::ok;
    if (::fstat(fd, &st) != 0) {
        rc = fail(std::generic_category().message(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = fail("not a regular file");
    } else if (static_cast<unsigned long long>(st.st_size) > proto::max_pem_size) {
        rc = err.set(Errc::auth,
                     cat(plugin, ": the key in server_public_key_path is larger than 16 KiB"));
    } else {
        pem.assign(static_cast<std::size_t>(st.st_size), '\0');
        std::size_t got = 0;
        while (got < pem.size()) {
            ssize_t n = ::read(fd, pem.data() + got, pem.size() - got);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                rc = fail(std::generic_category().message(errno));
                break;
            }
            if (n == 0) break;  // shrank while we read: take what is there
            got += static_cast<std::size_t>(n);
        }
        pem.resize(got);
    }
    ::close(fd);
    return rc;
}

}  // namespace mywire::io
