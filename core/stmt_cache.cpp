// The per-connection statement cache (option stmt_cache, mywire_stmt_cached):
// prepared statements keyed by SQL text, lent out and given back, never more
// server statements than the bound. See StmtCache in connection.hpp.
#include "connection.hpp"

namespace mywire {

void StmtCache::unlink(StmtCacheEntry &e) noexcept {
    (e.newer ? e.newer->older : newest) = e.older;
    (e.older ? e.older->newer : oldest) = e.newer;
    e.newer = e.older = nullptr;
}

void StmtCache::erase(StmtCacheEntry &e) noexcept {
    // By iterator: the key lives in the node being erased.
    auto it = entries.find(*e.key);
    if (it != entries.end()) entries.erase(it);
}

void StmtCache::push_newest(StmtCacheEntry &e) noexcept {
    e.older = newest;
    e.newer = nullptr;
    (newest ? newest->newer : oldest) = &e;
    newest = &e;
}

void Statement::release(Statement *st) noexcept {
    if (!st) return;
    if (st->cache_entry_ && st->conn_) {
        st->conn_->give_back(*st);
        return;
    }
    delete st;
}

void Connection::drop_entry(StmtCacheEntry &e) noexcept {
    if (!e.leased) stmt_cache_.unlink(e);
    Statement *st = e.st;
    st->cache_entry_ = nullptr;
    stmt_cache_.erase(e);  // e is gone now
    delete st;  // queues its COM_STMT_CLOSE while the server holds it
}

void Connection::forget_stmt_cache() noexcept {
    // The server forgot the session's statements (the epoch changed first,
    // so no COM_STMT_CLOSE is queued for them).
    StmtCache &c = stmt_cache_;
    Statement *pending = std::exchange(c.pending, nullptr);
    c.running = false;
    for (auto &[key, e] : c.entries) {
        e.st->cache_entry_ = nullptr;
        // A leased one is the caller's now: an ordinary statement, which
        // says "prepare it again".
        if (!e.leased || e.st == pending) delete e.st;
    }
    if (pending && !c.pending_cached) delete pending;
    c.entries.clear();
    c.newest = c.oldest = nullptr;
}

Errc Connection::start_stmt_cached(std::string_view sql, Statement *&out) {
    out = nullptr;
    if (call_ != Call::none)
        return session.err.set(Errc::out_of_sync, "commands out of sync: another call is in progress on "
                                                  "this connection (continue it first)");
    StmtCache &c = stmt_cache_;
    const unsigned capacity = opts.stmt_cache;
    // Lookups by string_view would need C++20's heterogeneous unordered
    // lookup; one string per call is cheap next to a round trip.
    std::string key(sql);
    auto it = c.entries.find(key);
    if (it != c.entries.end() && !it->second.leased) {
        StmtCacheEntry &e = it->second;
        if (e.st->epoch_ == epoch_ && e.st->prepared_) {
            c.unlink(e);
            e.leased = true;
            ++c.hits;
            session.err.clear();
            out = e.st;
            return Errc::ok;
        }
        drop_entry(e);  // cannot happen (forgotten at the epoch's change); prepared again below
        it = c.entries.end();
    }
    // A miss: cached unless the cache is off, has this SQL leased already,
    // or is full of leased entries.
    if (Errc rc = ready_for_command(); rc != Errc::ok) return rc;
    bool cache_it = capacity > 0 && it == c.entries.end();
    if (cache_it && c.entries.size() >= capacity) {
        if (c.oldest) {
            drop_entry(*c.oldest);  // COM_STMT_CLOSE goes out ahead of the prepare
            ++c.evictions;
        } else {
            cache_it = false;
        }
    }
    auto st = std::make_unique<Statement>(nullptr);
    add_statement(st.get());
    st->attach(this);
    StmtCacheEntry *entry = nullptr;
    if (cache_it) {
        try {
            auto [pos, added] = c.entries.try_emplace(std::move(key));
            entry = &pos->second;
            entry->key = &pos->first;
        } catch (...) {
            st.reset();  // unregisters
            throw;
        }
        entry->st = st.get();
        entry->leased = true;  // by the call, then by its caller
        st->cache_entry_ = entry;
    }
    auto undo = [&] {
        if (entry) {
            st->cache_entry_ = nullptr;
            c.erase(*entry);
        }
    };
    Errc rc;
    try {
        rc = start_prepare(*st, sql);
    } catch (...) {
        undo();  // then st is deleted (unregistered)
        throw;
    }
    if (rc != Errc::ok) {
        undo();
        return rc;
    }
    ++c.misses;
    c.pending = st.release();
    c.pending_cached = cache_it;
    c.running = true;
    return Errc::ok;
}

Errc Connection::finish_stmt_cached(Statement *&out) {
    out = nullptr;
    StmtCache &c = stmt_cache_;
    Statement *st = std::exchange(c.pending, nullptr);
    bool cached = c.pending_cached;
    c.running = false;
    Errc rc = finish();
    if (!st) return rc != Errc::ok ? rc : session.err.set(Errc::state, "the connection was closed");
    if (rc != Errc::ok) {
        if (cached && st->cache_entry_) {
            StmtCacheEntry &e = *st->cache_entry_;
            st->cache_entry_ = nullptr;
            c.erase(e);
        }
        delete st;
        return rc;
    }
    out = st;
    return Errc::ok;
}

void Connection::give_back(Statement &st) noexcept {
    StmtCacheEntry &e = *st.cache_entry_;
    if (!e.leased) return;  // given back already
    bool long_data = false;
    for (const proto::Param &p : st.params_) long_data = long_data || p.long_data;
    // Reused only as it was lent: prepared on this session from the same SQL,
    // with no call of its own running and no long data the server holds.
    if (stmt_ == &st || !st.prepared_ || st.client_side_ || st.epoch_ != epoch_ || st.sql_ != *e.key ||
        long_data) {
        e.leased = true;
        drop_entry(e);
        return;
    }
    st.end_cursor_result();
    for (proto::Param &p : st.params_) p = proto::Param{};
    st.arrays_.clear();
    st.clear_batch();
    st.cursor_rows_ = 0;
    st.row_results_ = false;
    e.leased = false;
    stmt_cache_.push_newest(e);
}

std::size_t Connection::clear_stmt_cache() noexcept {
    std::size_t n = 0;
    while (stmt_cache_.oldest) {
        drop_entry(*stmt_cache_.oldest);
        ++n;
    }
    return n;
}

}  // namespace mywire
