// Prepared statements: the Statement handle, its parameters, the execute
// request, and the text forms of binary rows. The calls themselves run on
// the one engine in connection.cpp (Call::prepare / execute / send).
#include <cmath>
#include <cstring>

#include "connection.hpp"
#include "proto/endian.hpp"
#include "proto/reader.hpp"
#include "proto/sqlformat.hpp"

namespace mywire {

namespace ft = proto::field_type;

// ------------------------------------------------------------ binary text

void Result::prepare_rows() {
    values_.clear();
    values_.resize(head.columns.size());  // all {nullptr, 0}
    const auto n = static_cast<std::uint32_t>(values_.size());
    row_on_ = RowCols{n, binary_ ? n : 0};
    if (!binary_) return;
    // The same stamp, the same columns: the layout built for them stands.
    // (Known only for a result kept for reuse, the one whose next execute
    // may reuse it.)
    if (!spare_head_ || head.stamp == 0 || head.stamp != spare_head_->layout_stamp) {
        if (spare_head_) spare_head_->layout_stamp = 0;  // until built
        layout_.build(head.columns.data(), head.columns.size());
        if (spare_head_) spare_head_->layout_stamp = head.stamp;
    }
    // The text forms' buffers come with the first one asked for.
    text_.clear();
    text_store_.clear();
    text_made_.clear();
    row_generation_ = 1;
    text_all_ = false;
}

void Result::end_cursor(bool keep_connection) noexcept {
    cursor_stmt_ = nullptr;
    cursor_done_ = true;
    if (!keep_connection) conn_ = nullptr;
    if (finished_) return;
    if (error_ == 0) error_ = static_cast<int>(Errc::state);
    if (!keep_connection) finished_ = true;
}

bool Result::ensure_text() const noexcept {
    const std::size_t n = values_.size();
    if (text_.size() == n) return true;
    try {
        text_.assign(n, Value{nullptr, 0});
        text_store_.resize(n);
        text_made_.assign(n, 0);
        return true;
    } catch (...) {
        text_.clear();
        text_store_.clear();
        text_made_.clear();
        return false;
    }
}

const Value *Result::binary_text(unsigned i) const noexcept {
    static const Value no_memory{"", 0};  // out of memory: an empty text, never a dangling one
    if (!ensure_text()) return &no_memory;
    if (text_made_[i] == row_generation_) return &text_[i];
    const Value &raw = values_[i];
    Value out{nullptr, 0};
    if (raw.data) {
        try {
            std::string &store = text_store_[i];
            if (proto::text_passthrough(layout_.wire[i])) {
                if (!streaming_ || proto::terminated_in_place(raw)) {
                    out = raw;  // NUL-terminated in the arena, or in place
                } else {
                    store.assign(raw.data, raw.len);  // a NUL-terminated copy
                    out = {store.data(), store.size()};
                }
            } else if (proto::to_text(head.columns[i], raw, store) == Errc::ok) {
                out = {store.data(), store.size()};
            } else {
                out = {"", 0};
            }
        } catch (...) {
            out = {"", 0};  // out of memory: an empty text, never a dangling one
        }
    }
    text_[i] = out;
    text_made_[i] = row_generation_;
    return &text_[i];
}

const Value *Result::binary_text_row() const noexcept {
    if (!ensure_text()) return nullptr;
    if (!text_all_) {
        for (unsigned i = 0; i < values_.size(); ++i) binary_text(i);
        text_all_ = true;
    }
    return text_.data();
}

// --------------------------------------------------------------- statement

Statement::Statement(Connection *conn) : conn_(conn) {
    if (conn_) conn_->add_statement(this);
}

void Statement::end_cursor_result() noexcept {
    if (cursor_result_) {
        // Its cursor ends: the rows not fetched yet will not come (STATE,
        // not a DONE that would look like the end).
        cursor_result_->end_cursor(true);
        cursor_result_ = nullptr;
    }
}

Statement::~Statement() {
    end_cursor_result();
    if (!conn_) return;
    if (prepared_ && !client_side_ && epoch_ == conn_->epoch()) conn_->queue_stmt_close(id_);
    conn_->remove_statement(this);
}

Errc Statement::usable(Error &err) const {
    if (!conn_) return err.set(Errc::state, "the statement's connection was freed");
    if (!prepared_) return err.set(Errc::state, "the statement is not prepared");
    if (client_side_) return Errc::ok;  // nothing on the server to forget
    if (epoch_ != conn_->epoch())
        return err.set(Errc::state, "the statement was prepared on an earlier session of the connection "
                                    "(it was closed, reconnected or reset, and the server forgot the "
                                    "statement); prepare it again");
    return Errc::ok;
}

using proto::append_le;

Errc Statement::bind_null(unsigned i) {
    if (param_index(i) != Errc::ok) return Errc::argument;
    return proto::encode_null(params_[i]);
}

Errc Statement::bind_int(unsigned i, std::int64_t v, unsigned type) {
    if (param_index(i) != Errc::ok) return Errc::argument;
    return proto::encode_int(params_[i], v, type);
}

Errc Statement::bind_uint(unsigned i, std::uint64_t v, unsigned type) {
    if (param_index(i) != Errc::ok) return Errc::argument;
    return proto::encode_uint(params_[i], v, type);
}

Errc Statement::bind_float(unsigned i, float v) {
    if (param_index(i) != Errc::ok) return Errc::argument;
    return proto::encode_float(params_[i], v);
}

Errc Statement::bind_double(unsigned i, double v) {
    if (param_index(i) != Errc::ok) return Errc::argument;
    return proto::encode_double(params_[i], v);
}

Errc Statement::bind_bytes(unsigned i, unsigned type, std::string_view v) {
    if (param_index(i) != Errc::ok) return Errc::argument;
    return proto::encode_bytes(params_[i], type, v);
}

Errc Statement::bind_time(unsigned i, const proto::Time &t) {
    if (param_index(i) != Errc::ok) return Errc::argument;
    return proto::encode_time(params_[i], t);
}

Errc Statement::clear_bindings() {
    arrays_.clear();
    // Long data already sent stays (the server keeps it until an execute or
    // COM_STMT_RESET).
    for (proto::Param &p : params_)
        if (!p.long_data) p = proto::Param{};
    return Errc::ok;
}

Errc Statement::bind_indicator(unsigned i, std::uint8_t indicator) {
    if (param_index(i) != Errc::ok) return Errc::argument;
    return proto::encode_indicator(params_[i], indicator);
}

Errc Statement::bind_array(unsigned i, int kind, const void *values, std::size_t stride,
                           const std::size_t *lengths, const std::uint8_t *indicators) {
    if (i >= params_.size()) return Errc::argument;
    proto::ParamArray a;
    if (Errc rc = proto::make_param_array(a, kind, values, stride, lengths, indicators); rc != Errc::ok) return rc;
    if (arrays_.size() != params_.size()) arrays_.assign(params_.size(), proto::ParamArray{});
    arrays_[i] = a;
    return Errc::ok;
}

std::uint64_t Statement::build_array_bulk(std::vector<std::uint8_t> &out, const std::vector<proto::ParamArray> &arrays,
                                          std::uint64_t from, std::uint64_t rows, std::size_t limit,
                                          std::uint16_t flags) const {
    out.assign(proto::header_size, 0);
    out.push_back(proto::command::stmt_bulk_execute);
    append_le(out, id_, 4);
    append_le(out, flags, 2);  // proto::bulk_flag: send_types always
    proto::append_bulk_types(out, arrays);
    return proto::append_bulk_rows(out, arrays, from, rows, limit);
}

void Statement::load_array_row(const std::vector<proto::ParamArray> &arrays, std::uint64_t row) {
    for (std::size_t i = 0; i < params_.size() && i < arrays.size(); ++i)
        proto::load_array_value(params_[i], arrays[i], row);
}

Errc Statement::add_batch(Error &err) {
    const std::size_t n = params_.size();
    if (n == 0) return err.set(Errc::argument, "a batch needs a statement with parameters");
    if (batch_ends_.empty()) {
        batch_types_.assign(2 * n, '\0');
        batch_typed_.assign(n, 0);
    }
    for (std::size_t i = 0; i < n; ++i) {
        const proto::Param &p = params_[i];
        if (!p.bound)
            return err.set(Errc::argument, "parameter " + std::to_string(i) + " of " + std::to_string(n) +
                                               " has no value (bind every parameter before adding the row)");
        if (p.long_data) return err.set(Errc::argument, "long data cannot be part of a batch");
        if (p.is_null() || p.indicator) continue;
        char t = static_cast<char>(p.type), f = static_cast<char>(p.is_unsigned ? 0x80 : 0);
        if (!batch_typed_[i]) continue;
        if (batch_types_[2 * i] != t || batch_types_[2 * i + 1] != f)
            return err.set(Errc::argument, "parameter " + std::to_string(i) +
                                               " has another type than in the batch's earlier rows "
                                               "(a batch sends each parameter's type once)");
    }
    std::size_t start = batch_.size();
    try {
        for (std::size_t i = 0; i < n; ++i) {
            const proto::Param &p = params_[i];
            if (p.indicator) {
                batch_.push_back(static_cast<char>(p.indicator));
                if (p.indicator >= 2) batch_indicators_ = true;
            } else if (p.is_null()) {
                batch_.push_back(1);
            } else {
                batch_.push_back(0);
                proto::append_param_value(batch_, p);
            }
        }
        batch_ends_.push_back(batch_.size());
    } catch (...) {
        batch_.resize(start);
        throw;
    }
    for (std::size_t i = 0; i < n; ++i) {
        const proto::Param &p = params_[i];
        if (p.is_null() || p.indicator || batch_typed_[i]) continue;
        batch_typed_[i] = 1;
        batch_types_[2 * i] = static_cast<char>(p.type);
        batch_types_[2 * i + 1] = static_cast<char>(p.is_unsigned ? 0x80 : 0);
    }
    return Errc::ok;
}

void Statement::clear_batch() noexcept {
    batch_indicators_ = false;
    batch_.clear();
    batch_ends_.clear();
    batch_types_.clear();
    batch_typed_.clear();
}

void Statement::build_bulk(std::string &out, std::size_t from, std::size_t to, std::uint16_t flags) const {
    out.clear();
    append_le(out, id_, 4);
    append_le(out, flags, 2);  // proto::bulk_flag: send_types always
    for (std::size_t i = 0; i < params_.size(); ++i) {
        // A parameter NULL (or DEFAULT / IGNORE) in every row is sent as NULL-typed.
        out.push_back(batch_typed_[i] ? batch_types_[2 * i] : static_cast<char>(ft::null));
        out.push_back(batch_typed_[i] ? batch_types_[2 * i + 1] : 0);
    }
    std::size_t a = from ? batch_ends_[from - 1] : 0, b = batch_ends_[to - 1];
    out.append(batch_, a, b - a);
}

Errc Statement::load_batch_row(std::size_t row, Error &err) {
    std::size_t a = row ? batch_ends_[row - 1] : 0, b = batch_ends_[row];
    proto::Reader r(std::string_view(batch_).substr(a, b - a));
    for (std::size_t i = 0; i < params_.size(); ++i) {
        proto::Param &p = params_[i];
        std::uint8_t ind = 0;
        r.u8(ind);
        p = proto::Param{};
        p.bound = true;
        if (ind == 1) continue;
        if (ind != 0)
            return err.set(Errc::argument, "DEFAULT and IGNORE need bulk execution (row " + std::to_string(row) + ")");
        p.type = static_cast<std::uint8_t>(batch_types_[2 * i]);
        p.is_unsigned = batch_types_[2 * i + 1] != 0;
        std::string_view v;
        switch (p.type) {
        case ft::tiny: case ft::short_: case ft::long_: case ft::longlong: case ft::float_: case ft::double_:
            r.bytes(p.type == ft::tiny ? 1 : p.type == ft::short_ ? 2
                    : p.type == ft::long_ || p.type == ft::float_ ? 4 : 8, v);
            break;
        case ft::date: case ft::time: case ft::datetime: {
            std::uint8_t len = 0;
            r.u8(len);
            r.bytes(len, v);
            break;
        }
        default:
            r.lenenc_str(v);
        }
        p.bytes.assign(v.data(), v.size());
    }
    if (!r.ok()) return err.set(Errc::internal, "a batch row does not decode");
    return Errc::ok;
}

Errc Statement::check_params(Error &err, bool pipelined) const {
    const std::size_t n = params_.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (!params_[i].bound)
            return err.set(Errc::argument, "parameter " + std::to_string(i) + " of " + std::to_string(n) +
                                               " has no value (bind every parameter before executing)");
        if (params_[i].indicator)
            return err.set(Errc::argument, "parameter " + std::to_string(i) +
                                               " is bound to DEFAULT or IGNORE, which only a batch can send");
        if (pipelined && params_[i].long_data)
            return err.set(Errc::argument, "parameter " + std::to_string(i) +
                                               " has long data sent: a pipelined execute cannot use it "
                                               "(bind the value instead)");
    }
    return Errc::ok;
}

bool Statement::write_execute(std::string &out, std::uint32_t id, std::uint8_t flags,
                              const std::vector<proto::QueryAttr> &attrs, bool query_attributes,
                              const std::string *known_types, std::string &types) const {
    // With query attributes the parameter count is always sent (it covers
    // the statement's parameters and the attributes after them).
    if (query_attributes) flags |= proto::execute_parameter_count_available;
    out.resize(9);
    proto::store_le(id, 4, &out[0]);
    out[4] = static_cast<char>(flags);
    proto::store_le(1, 4, &out[5]);  // iteration count
    if (query_attributes) proto::append_lenenc(out, params_.size() + attrs.size());
    return proto::append_param_block(out, params_, attrs, query_attributes, known_types, types);
}

Errc Statement::build_execute(std::string &out, Error &err, const std::vector<proto::QueryAttr> &attrs,
                              bool query_attributes) {
    if (Errc rc = check_params(err, false); rc != Errc::ok) return rc;
    if (!attrs.empty() && !query_attributes)
        return err.set(Errc::internal, "query attributes for a server without them");
    // New-params-bound: the types go out only when the server does not have them.
    std::string types;
    if (write_execute(out, id_, cursor_rows_ ? 0x01 : 0x00,  // 0x01: CURSOR_TYPE_READ_ONLY
                      attrs, query_attributes, types_known_ ? &sent_types_ : nullptr, types))
        sent_types_ = std::move(types);
    return Errc::ok;
}

Errc Statement::build_pipelined_execute(std::string &out, Error &err, bool query_attributes) const {
    if (Errc rc = check_params(err, true); rc != Errc::ok) return rc;
    // No cursor (a pipeline's results are buffered), no attributes; the
    // types always: the server may not have them (an earlier step of the
    // batch may have failed, or bound other types), and a prepare in the
    // same batch has none yet.
    std::string types;
    write_execute(out, 0, 0x00, {}, query_attributes, nullptr, types);
    return Errc::ok;
}

// ------------------------------------------------------ pipeline steps

namespace {

// Where an add_* error goes: the statement's connection, unless a call runs
// on it (its error belongs to that call then).
Error &step_error(Statement &st, Error &scratch) {
    Connection *c = st.connection();
    return c && c->call() == Connection::Call::none ? c->err() : scratch;
}

}  // namespace

Errc Pipeline::add_prepare(Statement &st, std::string_view sql) {
    Error scratch;
    Error &err = step_error(st, scratch);
    Connection *c = st.conn_;
    if (!c) return err.set(Errc::state, "the statement's connection was freed");
    // The parameters are bound before the reply says how many there are: as
    // many as the server's lexer will find (checked again on the reply).
    std::vector<std::size_t> positions;
    if (Errc rc = proto::find_placeholders(sql, c->session.status_flags & proto::status::no_backslash_escapes,
                                           positions, err, c->opts.charset);
        rc != Errc::ok)
        return rc;
    if (positions.size() > 65535)
        return err.set(Errc::argument, "a statement has at most 65535 parameters");
    PipelineStep step;
    step.kind = PipelineStep::Kind::prepare;
    step.arg.assign(sql.data(), sql.size());
    step.stmt = &st;
    step.owner = c;
    step.declared_params = static_cast<unsigned>(positions.size());
    std::vector<proto::Param> params(positions.size());
    steps.push_back(std::move(step));
    if (prepare_of(&st) == PipelineStep::none) {
        try {
            prepares.emplace_back(&st, steps.size() - 1);
        } catch (...) {
            steps.pop_back();
            throw;
        }
    } else {
        for (auto &[s, i] : prepares)
            if (s == &st) i = steps.size() - 1;
    }
    // Unbound, as many as the placeholders: bound next for the executes
    // that follow this step.
    st.params_.swap(params);
    st.arrays_.clear();
    if (c->call() == Connection::Call::none) err.clear();
    return Errc::ok;
}

Errc Pipeline::add_execute(Statement &st) {
    Error scratch;
    Error &err = step_error(st, scratch);
    Connection *c = st.conn_;
    if (!c) return err.set(Errc::state, "the statement's connection was freed");
    PipelineStep step;
    step.depends = prepare_of(&st);
    if (step.depends == PipelineStep::none) {
        if (!st.prepared_)
            return err.set(Errc::state, "the statement is not prepared (prepare it, or add a prepare "
                                        "step for it to the pipeline first)");
        if (Errc rc = st.usable(err); rc != Errc::ok) return rc;
        if (st.client_side_) {
            // Formatted now, with the bindings as they are: a text query step.
            std::string sql;
            if (Errc rc = proto::format_query(st.sql_, st.params_, c->opts.charset,
                                              c->session.status_flags & proto::status::no_backslash_escapes,
                                              sql, err);
                rc != Errc::ok)
                return rc;
            step.kind = PipelineStep::Kind::query;
            step.arg.swap(sql);
            steps.push_back(std::move(step));
            if (c->call() == Connection::Call::none) err.clear();
            return Errc::ok;
        }
        step.stmt_id = st.id_;
        step.epoch = st.epoch_;
    }
    if (Errc rc = st.build_pipelined_execute(step.arg, err, c->query_attributes()); rc != Errc::ok) return rc;
    step.kind = PipelineStep::Kind::execute;
    step.stmt = &st;
    step.owner = c;
    steps.push_back(std::move(step));
    if (c->call() == Connection::Call::none) err.clear();
    return Errc::ok;
}

Errc Pipeline::add_stmt_close(Statement &st) {
    Error scratch;
    Error &err = step_error(st, scratch);
    Connection *c = st.conn_;
    if (!c) return err.set(Errc::state, "the statement's connection was freed");
    PipelineStep step;
    step.depends = prepare_of(&st);
    if (step.depends == PipelineStep::none) {
        if (Errc rc = st.usable(err); rc != Errc::ok) return rc;
        if (st.client_side_)
            return err.set(Errc::argument, "a client-side statement has nothing to close on the server");
        step.stmt_id = st.id_;
        step.epoch = st.epoch_;
    }
    step.kind = PipelineStep::Kind::stmt_close;
    step.stmt = &st;
    step.owner = c;
    step.arg.assign(4, '\0');
    steps.push_back(std::move(step));
    if (c->call() == Connection::Call::none) err.clear();
    return Errc::ok;
}

}  // namespace mywire
