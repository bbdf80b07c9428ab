#include "connectors/file/file_connector.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>

#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

int open_for_writing(const std::string& path, const std::string& origin) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        throw config_error({origin, 0, 0}, "file:" + path,
                           std::string("cannot open for writing: ") + std::strerror(errno));
    return fd;
}

} // namespace

file_connector::file_connector(const std::string& path, const std::string& origin)
    : stream_writer(open_for_writing(path, origin), true, "file:" + path) {}

std::uint64_t read_file_records(const std::string& path, const std::string& origin,
                                const record_visitor& visit) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error({origin, 0, 0}, "file:" + path, "cannot open for reading");
    std::string line;
    std::uint64_t read = 0;
    for (bool first = true; std::getline(in, line); first = false) {
        if (first && line.starts_with("device_id,")) continue; // a CSV header is not a record
        visit(line, 0);
        ++read;
    }
    return read;
}

} // namespace synthfeed
