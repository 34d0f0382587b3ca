// Rank-prefixed logging. Every line says which rank wrote it so interleaved MPI logs stay readable.
#pragma once
#include <string>

#include "core/error.hpp"

namespace esm::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3, Quiet = 4 };

void set_level(Level level);
Level level();
Level parse_level(const std::string& name);  // debug|info|warn|error|quiet
// Called once MPI is up so lines carry "[r/P]".
void set_rank(int rank, int size);
void write(Level level, const std::string& message);

template <typename... A> void debug(const A&... a) { if (level() <= Level::Debug) write(Level::Debug, str(a...)); }
template <typename... A> void info(const A&... a) { if (level() <= Level::Info) write(Level::Info, str(a...)); }
template <typename... A> void warn(const A&... a) { if (level() <= Level::Warn) write(Level::Warn, str(a...)); }
template <typename... A> void error(const A&... a) { write(Level::Error, str(a...)); }
// Rank-0-only info line, for summaries that every rank would otherwise repeat.
void info0(const std::string& message);

}  // namespace esm::log
