"""Connection and cursors: the PEP 249 layer over the _mywire extension.

Ownership: every C handle (connection, result, statement) is held by exactly
one Python object here, which frees it once and forgets the pointer. Explicit
closing uses the polite calls (COM_QUIT, draining); finalizers (__del__) use
the ones that never touch the network (mywire_conn_discard,
mywire_result_discard; mywire_stmt_free never blocks). The C library lets
results and statements outlive their connection, so any collection order is
safe; using one after its connection closed is an InterfaceError.

Every connection is switched to mywire's non-blocking mode, and the network
calls go through the extension's pyw_call / pyw_execute / pyw_fetch, which
wait with poll() while the GIL is released (other threads run, and can
cancel()), and turn Ctrl-C into a KILL QUERY on the server.
"""

import collections.abc
import threading

from . import _mywire as _m
from ._errors import (Error, Warning, InterfaceError, DatabaseError, DataError,  # noqa: F401
                      OperationalError, IntegrityError, InternalError, ProgrammingError,
                      NotSupportedError, conn_error, client_error)

OK = _m.MYWIRE_OK
ROW = _m.MYWIRE_ROW
DONE = _m.MYWIRE_DONE
STREAMING = _m.MYWIRE_STREAMING
_ER_UNSUPPORTED_PS = 1295

# Keywords of connect() that are not URI keys.
_ALIASES = {'db': 'database', 'passwd': 'password', 'unix_socket': 'socket'}


def _remember_unpreparable(memo, sql):
    """Note that the server refused to prepare sql (ER_UNSUPPORTED_PS), so
    that it goes client-side at once next time (a bounded set of texts)."""
    if len(memo) >= 1024:
        memo.clear()
    memo.add(sql)


def _client_statement(ptr, sql):
    """A new client-side statement for sql (nothing is sent), freed by the
    caller once executed."""
    rc, st = _m.mywire_stmt_new(ptr)
    if rc != OK:
        raise conn_error(ptr, rc)
    rc = _m.mywire_stmt_prepare_client(st, sql)
    if rc != OK:
        _m.mywire_stmt_free(st)
        raise conn_error(ptr, rc)
    return st


class _ConnectionBase:
    """What Connection and mywire.aio's AsyncConnection share: the handle's
    life (made, configured, freed once), the statement cache's answer, and
    the properties that only read the handle. Neither network calls nor
    waiting are here: those differ (blocking in the extension, or awaited)."""

    _ptr = None

    def _open_handle(self, prepare, stmt_cache):
        """Check the keywords, make the handle and size its C statement cache
        (before the URI and options: a stmt_cache key there wins)."""
        if prepare not in ('server', 'client'):
            raise ProgrammingError(0, "prepare must be 'server' or 'client'")
        if not isinstance(stmt_cache, int) or stmt_cache < 0:
            raise ProgrammingError(0, 'stmt_cache must be an int >= 0')
        self._client_side = prepare == 'client'
        self._cache_size = stmt_cache
        self._unpreparable = set()  # statement texts the server cannot prepare (1295)
        self._active = None  # the _Result whose rows or later results are still unread
        rc, ptr = _m.mywire_conn_new()
        if rc != OK:
            raise client_error(rc, _m.mywire_errstr(rc))
        rc = _m.mywire_set_stmt_cache(ptr, stmt_cache)
        if rc != OK:
            err = conn_error(ptr, rc)
            _m.mywire_conn_free(ptr)
            raise err
        self._ptr = ptr
        return ptr

    def _configure(self, uri, options):
        ptr = self._ptr
        if uri is not None:
            rc = _m.mywire_set_uri(ptr, uri)
            if rc != OK:
                raise conn_error(ptr, rc)
        for key, value in options.items():
            if value is None:
                continue
            if isinstance(value, bool):
                value = '1' if value else '0'
            rc = _m.mywire_set_option(ptr, _ALIASES.get(key, key), str(value))
            if rc != OK:
                raise conn_error(ptr, rc)

    def _handle(self):
        ptr = self._ptr
        if ptr is None:
            raise InterfaceError(0, 'the connection is closed', code=_m.MYWIRE_ERROR_STATE)
        return ptr

    def _release(self):
        """Free the handle (COM_QUIT if the socket takes it at once; it never
        waits), once: the cache's statements go with it."""
        ptr, self._ptr = self._ptr, None
        if ptr is None:
            return
        self._active = None
        _m.mywire_conn_free(ptr)

    def __del__(self):
        ptr, self._ptr = self._ptr, None
        if ptr is None:
            return
        _m.mywire_conn_discard(ptr)

    def _leased(self, ptr, sql, rc, st):
        """The end of _statement: the cache's answer (rc, st) for sql, or a
        client-side statement when the server cannot prepare sql."""
        if rc == OK:
            return st
        if rc != _m.MYWIRE_ERROR_SERVER or _m.mywire_errno(ptr) != _ER_UNSUPPORTED_PS:
            raise conn_error(ptr, rc)
        _remember_unpreparable(self._unpreparable, sql)
        return _client_statement(ptr, sql)

    def _cacheable(self, sql):
        return not self._client_side and sql not in self._unpreparable

    def escape_string(self, value):
        """value (str or bytes) escaped for a quoted literal, as bytes."""
        ptr = self._handle()
        rc, out = _m.pyw_escape(ptr, value)
        if rc != OK:
            raise conn_error(ptr, rc)
        return out

    @property
    def closed(self):
        return self._ptr is None

    @property
    def server_version(self):
        return _m.mywire_server_version(self._handle())

    @property
    def connection_id(self):
        return _m.mywire_connection_id(self._handle())

    thread_id = connection_id

    @property
    def is_mariadb(self):
        return bool(_m.mywire_is_mariadb(self._handle()))

    @property
    def tls(self):
        """None without TLS, else a dict: version, cipher, verified."""
        ptr = self._handle()
        if not _m.mywire_tls_active(ptr):
            return None
        return {'version': _m.mywire_tls_version(ptr), 'cipher': _m.mywire_tls_cipher(ptr),
                'verified': bool(_m.mywire_tls_verified(ptr))}

    @property
    def transport(self):
        return _m.mywire_transport(self._handle())


class _Result:
    """Owns one mywire_result handle."""

    __slots__ = ('ptr', 'done')

    def __init__(self, ptr, done):
        self.ptr = ptr
        self.done = done

    def free(self, conn_ptr):
        """Read what is left (a streaming result) and free the handle."""
        ptr, self.ptr = self.ptr, None
        if ptr is None:
            return
        try:
            if not self.done and conn_ptr is not None:
                _m.pyw_fetch(ptr, conn_ptr, -1, 0, 1)
        finally:
            self.done = True
            _m.mywire_result_free(ptr)

    def __del__(self):
        ptr, self.ptr = self.ptr, None
        if ptr is not None:
            _m.mywire_result_discard(ptr)


class Connection(_ConnectionBase):
    """A connection to a MySQL or MariaDB server (see mywire.connect)."""

    Warning = Warning
    Error = Error
    InterfaceError = InterfaceError
    DatabaseError = DatabaseError
    DataError = DataError
    OperationalError = OperationalError
    IntegrityError = IntegrityError
    InternalError = InternalError
    ProgrammingError = ProgrammingError
    NotSupportedError = NotSupportedError

    def __init__(self, uri=None, *, autocommit=False, prepare='server', stmt_cache=64,
                 cursorclass=None, **options):
        self._formats = {}  # query text -> pyw_format's answer
        self._descs = {}  # statement text -> its cached statement's last description
        # held by cancel() (another thread) while it uses the handle, so that
        # close() cannot free it meanwhile
        self._cancel_lock = threading.Lock()
        self.cursorclass = cursorclass or Cursor
        ptr = self._open_handle(prepare, stmt_cache)
        try:
            self._configure(uri, options)
            _m.mywire_set_nonblocking(ptr, 1)
            rc, _ = _m.pyw_call(_m.PYW_CONNECT, ptr, None, None, 0, 0)
            if rc != OK:
                raise conn_error(ptr, rc)
            if autocommit is not None:
                self._set_autocommit(bool(autocommit))
        except BaseException:
            self._ptr = None
            _m.mywire_conn_free(ptr)
            raise

    # --------------------------------------------------------------- plumbing

    def _begin(self, result=None):
        """Before a command: read and drop whatever the previous command left
        unread (a streaming result, more results of a multi-result query);
        result becomes the one left unread by this command."""
        ptr = self._handle()
        pending, self._active = self._active, None
        if pending is not None:
            pending.free(ptr)
            while _m.mywire_more_results(ptr):
                rc, res = _m.pyw_call(_m.PYW_NEXT_RESULT, ptr, None, None, STREAMING, 0)
                if rc == DONE:
                    break
                if rc != OK:
                    raise conn_error(ptr, rc)
                _Result(res, False).free(ptr)
        self._active = result
        return ptr

    def _check(self, rc):
        if rc != OK:
            raise conn_error(self._ptr, rc)

    def _simple(self, sql):
        ptr = self._begin()
        rc, res = _m.pyw_call(_m.PYW_QUERY, ptr, None, sql, STREAMING, 0)
        if rc != OK:
            raise conn_error(ptr, rc)
        self._active = _Result(res, False)
        self._begin()

    def _statement(self, sql):
        """A statement for sql (bytes, '?' placeholders), the one place
        statements are made: leased from the connection's C statement cache
        (option stmt_cache; a hit costs no round trip), or with
        prepare='client' (or for a statement the server cannot prepare) a
        client-side one. The caller gives it back with mywire_stmt_free once
        the execute returned: the rows and later results of a statement
        that opens no server cursor (none here does) are read through the
        connection, so a result outlives the lease."""
        ptr = self._handle()
        if self._cacheable(sql):
            rc, st = _m.pyw_call(_m.PYW_STMT_CACHED, ptr, None, sql, 0, 0)
            return self._leased(ptr, sql, rc, st)
        return _client_statement(ptr, sql)

    # ------------------------------------------------------------- PEP 249

    def close(self):
        """Close the connection (COM_QUIT if the socket takes it at once; it
        never waits). Closing twice is harmless."""
        with self._cancel_lock:
            self._release()

    def commit(self):
        self._simple(b'COMMIT')

    def rollback(self):
        self._simple(b'ROLLBACK')

    def cursor(self, cursorclass=None):
        self._handle()
        return (cursorclass or self.cursorclass)(self)

    # ------------------------------------------------------------ extensions

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        """Commit (or roll back on an exception) and close."""
        try:
            if self._ptr is not None and _m.mywire_is_connected(self._ptr):
                if exc_type is None:
                    self.commit()
                else:
                    self.rollback()
        finally:
            self.close()
        return False

    @property
    def autocommit(self):
        return bool(_m.mywire_server_status(self._handle()) & _m.MYWIRE_STATUS_AUTOCOMMIT)

    @autocommit.setter
    def autocommit(self, on):
        self._set_autocommit(bool(on))

    def get_autocommit(self):
        return self.autocommit

    def _set_autocommit(self, on):
        if self.autocommit != on:
            self._simple(b'SET autocommit=1' if on else b'SET autocommit=0')

    def ping(self):
        """COM_PING; an OperationalError when the connection is gone."""
        ptr = self._begin()
        rc, _ = _m.pyw_call(_m.PYW_PING, ptr, None, None, 0, 0)
        self._check(rc)
        return True

    def select_db(self, database):
        ptr = self._begin()
        rc, _ = _m.pyw_call(_m.PYW_SELECT_DB, ptr, None, database, 0, 0)
        self._check(rc)

    def cancel(self):
        """Stop the statement this connection is running (from any thread):
        a KILL QUERY over a short side connection; the running call then
        raises OperationalError (code MYWIRE_ERROR_CANCELLED) and the
        connection stays usable. Nothing happens when nothing runs."""
        with self._cancel_lock:
            ptr = self._handle()
            rc = _m.pyw_cancel(ptr)
        if rc != OK:
            raise client_error(rc, 'cancel failed: ' + _m.mywire_errstr(rc))

    def open(self):
        return self._ptr is not None and bool(_m.mywire_is_connected(self._ptr))


class _EachTotals:
    """executemany one execute at a time, as a batch reports it: rowcount
    the total of affected rows, lastrowid the first row's; with row_results
    the list of each execute's (rowcount, lastrowid or 0). Shared by the
    blocking and the asyncio cursor."""

    def __init__(self, row_results):
        self.total = 0
        self.first_id = None
        self.per_row = [] if row_results else None

    def add(self, cur):
        if cur.rowcount > 0:
            self.total += cur.rowcount
        if self.first_id is None and cur.lastrowid:
            self.first_id = cur.lastrowid
        if self.per_row is not None:
            self.per_row.append((cur.rowcount, cur.lastrowid or 0))

    def finish(self, cur):
        if cur.description is None:
            cur.rowcount = self.total
            cur.lastrowid = self.first_id
        cur.row_results = self.per_row
        return self.total


class Cursor:
    """A PEP 249 cursor. execute() reads the whole result into a list (the
    rows are converted in C straight from the socket, so the C side holds
    one row at a time); see SSCursor for results larger than memory."""

    _streaming = False

    def __init__(self, connection):
        self.connection = connection
        self.arraysize = 1
        self.description = None
        self.rowcount = -1
        self.lastrowid = None
        self.warning_count = 0
        self.rownumber = None
        self.row_results = None
        self._result = None
        self._rows = None
        self._pos = 0
        self._closed = False

    # -------------------------------------------------------------- plumbing

    def _conn(self):
        if self._closed:
            raise ProgrammingError(0, 'the cursor is closed')
        return self.connection._handle()

    def _reset(self):
        self.description = None
        self.rowcount = -1
        self.lastrowid = None
        self.row_results = None
        self.warning_count = 0
        self.rownumber = None
        self._rows = None
        self._pos = 0
        self._result = None

    def _params(self, args, names, count):
        if names is None and type(args) in (tuple, list):
            return args
        if names is not None:
            if not isinstance(args, collections.abc.Mapping):
                raise ProgrammingError(0, '%(name)s placeholders need a mapping of parameters')
            try:
                return tuple([args[n] for n in names])
            except KeyError as e:
                raise ProgrammingError(0, 'no parameter named %s' % e) from None
        if isinstance(args, (str, bytes, bytearray)) or \
                not isinstance(args, collections.abc.Sequence):
            if isinstance(args, collections.abc.Mapping) and count == 0:
                return ()
            raise ProgrammingError(0, '%s placeholders need a sequence (tuple or list) of '
                                      'parameters')
        return args

    def _format(self, ptr, query):
        nbe = _m.mywire_server_status(ptr) & _m.MYWIRE_STATUS_NO_BACKSLASH_ESCAPES
        formats = self.connection._formats
        key = (query, 1) if nbe else query
        f = formats.get(key)
        if f is not None:
            return f
        try:
            f = _m.pyw_format(query, 1 if nbe else 0)
        except ValueError as e:
            raise ProgrammingError(0, str(e)) from None
        if len(formats) >= 1024:
            formats.clear()
        formats[key] = f
        return f

    def _load(self, ptr, res):
        """Take the result handle res of the command just run."""
        r = _Result(res, False)
        self._result = r
        self.connection._active = r
        rc, rows, desc, affected, insert_id, self.warning_count = \
            _m.pyw_load(res, ptr, 0 if self._streaming else 1)
        self._take(ptr, r, rc, rows, desc, affected, insert_id)

    def _take(self, ptr, r, rc, rows, desc, affected, insert_id):
        """The cursor's state from what pyw_load read of result r."""
        if desc is None:
            r.done = True
            self.rowcount = affected
            self.lastrowid = insert_id
            return
        self.description = desc
        self.rownumber = 0
        if rows is None:
            return
        r.done = True
        if rc != DONE:
            raise conn_error(ptr, rc)
        self._rows = rows
        self.rowcount = len(rows)

    def _run(self, query, args):
        ptr = self._conn()
        self.connection._begin()
        self._reset()
        if args is None:
            rc, res = _m.pyw_call(_m.PYW_QUERY, ptr, None, query, STREAMING, 0)
            if rc != OK:
                raise conn_error(ptr, rc)
            self._load(ptr, res)
            return
        sql, names, count = self._format(ptr, query)
        params = self._params(args, names, count)
        if count == 0:
            rc, res = _m.pyw_call(_m.PYW_QUERY, ptr, None, sql, STREAMING, 0)
            if rc != OK:
                raise conn_error(ptr, rc)
        else:
            conn = self.connection
            st = conn._statement(sql)
            try:
                descs = conn._descs
                hint = descs.get(sql)
                rc, res, msg, rows, desc, affected, insert_id, self.warning_count = \
                    _m.pyw_execute_load(st, ptr, params, 0 if self._streaming else 1, hint)
                if res is not None and desc is not hint and desc is not None and \
                        _m.mywire_stmt_is_cached(st):
                    # only the cache entry's own: a description skipped by the
                    # server (metadata caching) is the one of its last execute
                    if len(descs) >= 2 * conn._cache_size + 16:
                        descs.clear()
                    descs[sql] = desc
            finally:
                _m.mywire_stmt_free(st)  # back to the cache; the result stays readable
            if res is None:
                if msg is not None:
                    raise client_error(rc, msg)
                raise conn_error(ptr, rc)
            r = _Result(res, False)
            self._result = r
            conn._active = r
            self._take(ptr, r, rc, rows, desc, affected, insert_id)
            return
        self._load(ptr, res)

    def _fetch(self, n):
        """Streaming: up to n rows (n < 0: all) from the server."""
        r = self._result
        if r is None or self.description is None:
            raise ProgrammingError(0, 'no result set to fetch from (execute a query first)')
        if r.done:
            if r.ptr is None and self.rowcount < 0:
                raise ProgrammingError(0, 'the rest of this result was discarded: another '
                                          'command ran on the connection',
                                       code=_m.MYWIRE_ERROR_OUT_OF_SYNC)
            return []
        conn_ptr = self.connection._ptr
        if conn_ptr is None:
            raise InterfaceError(0, 'the connection is closed', code=_m.MYWIRE_ERROR_STATE)
        rc, rows = _m.pyw_fetch(r.ptr, conn_ptr, n, 0, 0)
        self.rownumber += len(rows)
        if rc == DONE:
            r.done = True
            self.rowcount = self.rownumber
        elif rc != ROW:
            r.done = True
            raise conn_error(conn_ptr, rc)
        return rows

    # ------------------------------------------------------------- PEP 249

    def execute(self, query, args=None):
        """Run query. Without args it is sent as it is (a text query); with
        args (a sequence for %s, a mapping for %(name)s) the placeholders
        become '?' and the query runs as a server-side prepared statement
        (cached per connection), or a client-side formatted one with
        connect(prepare='client'). Returns rowcount."""
        self._run(query, args)
        return self.rowcount

    def executemany(self, query, seq_of_args, *, row_results=False):
        """Run query once per parameter set. Statements without a result set
        (INSERT, UPDATE, DELETE, REPLACE) go as one batch: MariaDB's bulk
        execution (COM_STMT_BULK_EXECUTE), one execute per row elsewhere.
        rowcount is the total of affected rows.

        With row_results=True, self.row_results is then a list of
        (affected_rows, insert_id) tuples, one per parameter set, in order
        (insert_id 0 when the row generated none); otherwise it is None.
        Asking for them costs bulk execution on servers before MariaDB 11.5
        (one COM_STMT_EXECUTE per row)."""
        ptr = self._conn()
        sql, names, count = self._format(ptr, query)
        if count == 0 or self.connection._client_side:
            return self._execute_each(query, seq_of_args, row_results)
        self.connection._begin()
        self._reset()
        st = self.connection._statement(sql)
        try:
            if _m.mywire_stmt_column_count(st) != 0 or _m.mywire_stmt_is_client_side(st):
                each = True
            else:
                each = False
                if names is not None:
                    rows = (self._params(a, names, count) for a in seq_of_args)
                else:
                    rows = seq_of_args
                if row_results:
                    rc, affected, insert_id, msg, per_row = \
                        _m.pyw_execute_batch(st, ptr, rows, True)
                else:
                    rc, affected, insert_id, msg, per_row = _m.pyw_execute_batch(st, ptr, rows)
        finally:
            _m.mywire_stmt_free(st)
        if each:
            return self._execute_each(query, seq_of_args, row_results)
        if rc != OK:
            if msg is not None:
                raise client_error(rc, msg)
            raise conn_error(ptr, rc)
        self.rowcount = affected
        self.lastrowid = insert_id
        self.row_results = per_row
        return affected

    def _execute_each(self, query, seq_of_args, row_results=False):
        """executemany one execute at a time (see _EachTotals)."""
        totals = _EachTotals(row_results)
        for args in seq_of_args:
            self._run(query, args)
            totals.add(self)
        return totals.finish(self)

    def callproc(self, procname, args=()):
        """CALL procname with args (as a prepared statement); the procedure's
        result sets are read with fetch*() and nextset(). Returns args
        (OUT parameters are not written back: select them, or read the
        OUT-parameter result set the server sends as the last result)."""
        args = tuple(args)
        self._run('CALL %s(%s)' % (procname, ', '.join(['%s'] * len(args))),
                  args if args else None)
        return args

    def fetchone(self):
        if self._streaming:
            self._conn()
            rows = self._fetch(1)
            return rows[0] if rows else None
        rows = self._buffered_rows()
        if self._pos >= len(rows):
            return None
        row = rows[self._pos]
        self._pos += 1
        self.rownumber = self._pos
        return row

    def fetchmany(self, size=None):
        if size is None:
            size = self.arraysize
        if self._streaming:
            self._conn()
            return self._fetch(max(size, 0))
        rows = self._buffered_rows()
        out = rows[self._pos:self._pos + size]
        self._pos += len(out)
        self.rownumber = self._pos
        return out

    def fetchall(self):
        if self._streaming:
            self._conn()
            return self._fetch(-1)
        rows = self._buffered_rows()
        out = rows[self._pos:] if self._pos else rows
        self._pos = len(rows)
        self.rownumber = self._pos
        return out

    def _buffered_rows(self):
        if self._closed:
            raise ProgrammingError(0, 'the cursor is closed')
        if self._rows is None:
            raise ProgrammingError(0, 'no result set to fetch from (execute a query first)')
        return self._rows

    def nextset(self):
        """Go to the next result of a multi-result query or CALL: True, or
        None when there is none."""
        ptr = self._conn()
        r = self._result
        if r is None or self.connection._active is not r:
            return None
        r.free(ptr)
        self.connection._active = None
        if not _m.mywire_more_results(ptr):
            self._reset()
            return None
        self._reset()
        rc, res = _m.pyw_call(_m.PYW_NEXT_RESULT, ptr, None, None, STREAMING, 0)
        if rc == DONE:
            return None
        if rc != OK:
            raise conn_error(ptr, rc)
        self._load(ptr, res)
        return True

    def setinputsizes(self, sizes):
        pass

    def setoutputsize(self, size, column=None):
        pass

    def close(self):
        """Close the cursor; what its query left unread is read and dropped."""
        if self._closed:
            return
        r = self._result
        conn = self.connection
        try:
            if r is not None and conn._active is r and conn._ptr is not None:
                conn._begin()
        finally:
            self._closed = True
            self._rows = None
            self._result = None

    # ------------------------------------------------------------ extensions

    def __iter__(self):
        return self

    def __next__(self):
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def scroll(self, value, mode='relative'):
        if self._streaming:
            raise NotSupportedError(0, 'a streaming cursor cannot scroll')
        rows = self._buffered_rows()
        pos = self._pos + value if mode == 'relative' else value
        if mode not in ('relative', 'absolute'):
            raise ProgrammingError(0, 'mode must be relative or absolute')
        if not 0 <= pos <= len(rows):
            raise IndexError('scroll out of range')
        self._pos = pos
        self.rownumber = pos


class SSCursor(Cursor):
    """A streaming ("server-side") cursor: execute() returns after the
    result's head, the rows are read from the socket as fetch*() asks, so a
    result of any size is read in constant memory. Until its rows are all
    read, the next command on the connection first reads and drops them.
    rowcount is -1 until the last row was fetched."""

    _streaming = True
