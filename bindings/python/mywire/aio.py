"""mywire.aio: an asyncio interface on mywire's non-blocking API.

    import mywire.aio

    conn = await mywire.aio.connect(host='db', user='app', password='...', database='shop')
    cur = conn.cursor()
    await cur.execute('SELECT id, name FROM t WHERE id > %s', (10,))
    async for row in cur:          # streamed: constant memory
        ...
    rows = await conn.fetch('SELECT 1')    # execute + fetchall
    await conn.close()

No thread per query: every call is a resumable mywire call on a non-blocking
connection, continued when the event loop says its socket (mywire_socket) is
ready (loop.add_reader / add_writer) or its deadline (mywire_timeout_ms)
passed. Results are always streamed: execute() returns after the result's
head; the rows are read as fetch*() or iteration ask for them.

Cancelling the task that awaits a statement stops it on the server
(mywire_cancel over its short side connection, which runs in the loop's
default executor, as it blocks) before CancelledError goes up; the
connection stays usable. Operations on one connection are serialised.
"""

import asyncio
import collections

from . import _mywire as _m
from ._connection import _Result, _ConnectionBase, Cursor as _SyncCursor, _EachTotals, _client_statement
from ._errors import ProgrammingError, conn_error, client_error

__all__ = ['connect', 'AsyncConnection', 'AsyncCursor']

OK = _m.MYWIRE_OK
ROW = _m.MYWIRE_ROW
DONE = _m.MYWIRE_DONE
WAIT_READ = _m.MYWIRE_WAIT_READ
WAIT_WRITE = _m.MYWIRE_WAIT_WRITE
STREAMING = _m.MYWIRE_STREAMING
_FETCH_BATCH = 1000


async def connect(uri=None, *, autocommit=False, prepare='server', stmt_cache=64, **options):
    """Connect without blocking the event loop; the keywords are those of
    mywire.connect()."""
    conn = AsyncConnection(prepare=prepare, stmt_cache=stmt_cache)
    await conn._connect(uri, options, autocommit)
    return conn


class AsyncConnection(_ConnectionBase):
    """A non-blocking connection (see connect()); its calls are awaited."""

    def __init__(self, *, prepare='server', stmt_cache=64):
        self._lock = asyncio.Lock()
        self._loop = asyncio.get_running_loop()
        ptr = self._open_handle(prepare, stmt_cache)
        _m.mywire_set_nonblocking(ptr, 1)

    async def _connect(self, uri, options, autocommit):
        ptr = self._ptr
        try:
            self._configure(uri, options)
            rc, _ = await self._call(_m.PYW_CONNECT, None, None, 0)
            if rc != OK:
                raise conn_error(ptr, rc)
            if autocommit is not None:
                on = bool(_m.mywire_server_status(ptr) & _m.MYWIRE_STATUS_AUTOCOMMIT)
                if on != bool(autocommit):
                    await self._simple(b'SET autocommit=1' if autocommit else b'SET autocommit=0')
        except BaseException:
            self._ptr = None
            _m.mywire_conn_free(ptr)
            raise

    # -------------------------------------------------------------- plumbing

    async def _wait(self, rc):
        """Until the socket is ready for rc, or the call's deadline passed."""
        ptr = self._handle()
        loop = self._loop
        fd = _m.mywire_socket(ptr)
        timeout = _m.mywire_timeout_ms(ptr)
        if fd < 0 or timeout == 0:
            return
        fut = loop.create_future()

        def ready():
            if not fut.done():
                fut.set_result(None)

        if rc == WAIT_WRITE:
            loop.add_writer(fd, ready)
        else:
            loop.add_reader(fd, ready)
        timer = loop.call_later(timeout / 1000.0, ready) if timeout > 0 else None
        try:
            await fut
        finally:
            if rc == WAIT_WRITE:
                loop.remove_writer(fd)
            else:
                loop.remove_reader(fd)
            if timer is not None:
                timer.cancel()

    async def _step(self, fn):
        """Call fn (one non-blocking mywire call, answering (rc, x)) until it
        no longer waits. A cancelled task stops the statement on the server
        and finishes the call before CancelledError goes up."""
        out, cancelled = await self._step_keep(fn)
        if cancelled is not None:
            raise cancelled
        return out

    async def _step_keep(self, fn):
        """_step, answering (out, the CancelledError or None)."""
        out = fn()
        cancelled = None
        while out[0] in (WAIT_READ, WAIT_WRITE):
            try:
                await self._wait(out[0])
            except asyncio.CancelledError as e:
                if cancelled is None:
                    cancelled = e
                    ptr = self._ptr
                    if ptr is not None:
                        await asyncio.shield(self._loop.run_in_executor(None, _m.pyw_cancel, ptr))
            out = fn()
        return out, cancelled

    async def _call(self, op, stmt, data, mode):
        ptr = self._handle()

        def fn():
            # a continuation gets the same arguments (mywire reads them once)
            return _m.pyw_call(op, ptr, stmt, data, mode, 1)

        out, cancelled = await self._step_keep(fn)
        if cancelled is not None:
            if out[1] is not None and op in (_m.PYW_QUERY, _m.PYW_NEXT_RESULT, _m.PYW_EXECUTE):
                await _drain(self, _Result(out[1], False))
            elif out[1] is not None and op == _m.PYW_STMT_CACHED:
                _m.mywire_stmt_free(out[1])
            raise cancelled
        return out

    async def _begin(self, result=None):
        ptr = self._handle()
        pending, self._active = self._active, None
        if pending is not None:
            await _drain(self, pending)
            while _m.mywire_more_results(ptr):
                rc, res = await self._call(_m.PYW_NEXT_RESULT, None, None, STREAMING)
                if rc == DONE:
                    break
                if rc != OK:
                    raise conn_error(ptr, rc)
                await _drain(self, _Result(res, False))
        self._active = result
        return ptr

    async def _simple(self, sql):
        ptr = await self._begin()
        rc, res = await self._call(_m.PYW_QUERY, None, sql, STREAMING)
        if rc != OK:
            raise conn_error(ptr, rc)
        await _drain(self, _Result(res, False))

    async def _statement(self, sql):
        """As Connection._statement: a lease from the C statement cache (a
        miss prepares without blocking the loop), or a client-side
        statement; the caller gives it back with mywire_stmt_free."""
        ptr = self._handle()
        if self._cacheable(sql):
            rc, st = await self._call(_m.PYW_STMT_CACHED, None, sql, 0)
            return self._leased(ptr, sql, rc, st)
        return _client_statement(ptr, sql)

    # ---------------------------------------------------------------- API

    def cursor(self):
        self._handle()
        return AsyncCursor(self)

    async def execute(self, sql, args=None):
        """A new cursor with sql executed on it."""
        cur = self.cursor()
        await cur.execute(sql, args)
        return cur

    async def fetch(self, sql, args=None):
        """execute() then fetchall(): the rows as a list of tuples."""
        cur = await self.execute(sql, args)
        return await cur.fetchall()

    async def commit(self):
        async with self._lock:
            await self._simple(b'COMMIT')

    async def rollback(self):
        async with self._lock:
            await self._simple(b'ROLLBACK')

    async def ping(self):
        async with self._lock:
            ptr = await self._begin()
            rc, _ = await self._call(_m.PYW_PING, None, None, 0)
            if rc != OK:
                raise conn_error(ptr, rc)
            return True

    async def cancel(self):
        """Stop the statement running on this connection (KILL QUERY)."""
        ptr = self._handle()
        rc = await self._loop.run_in_executor(None, _m.pyw_cancel, ptr)
        if rc != OK:
            raise client_error(rc, 'cancel failed: ' + _m.mywire_errstr(rc))

    async def close(self):
        """Close (COM_QUIT if the socket takes it at once; never waits)."""
        self._release()

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        try:
            if self._ptr is not None and _m.mywire_is_connected(self._ptr):
                if exc_type is None:
                    await self.commit()
                else:
                    await self.rollback()
        finally:
            await self.close()
        return False


async def _drain(conn, r):
    """Read what is left of result r and free it."""
    if r.ptr is None:
        return
    try:
        if not r.done:
            ptr = conn._handle()
            await conn._step(lambda: _m.pyw_fetch(r.ptr, ptr, -1, 1, 1))
    finally:
        r.done = True
        ptr_r, r.ptr = r.ptr, None
        _m.mywire_result_free(ptr_r)


class AsyncCursor:
    """A streaming cursor for asyncio: await execute(), fetchone(),
    fetchmany(), fetchall(), or `async for row in cursor`."""

    def __init__(self, connection):
        self.connection = connection
        self.arraysize = 1
        self.description = None
        self.rowcount = -1
        self.lastrowid = None
        self.row_results = None
        self.warning_count = 0
        self._result = None
        self._buffer = collections.deque()
        self._n = 0
        self._closed = False

    def _ptr(self):
        if self._closed:
            raise ProgrammingError(0, 'the cursor is closed')
        return self.connection._handle()

    async def execute(self, query, args=None):
        conn = self.connection
        ptr = self._ptr()
        async with conn._lock:
            await conn._begin()
            self.description = None
            self.rowcount = -1
            self.lastrowid = None
            self._buffer.clear()
            self._n = 0
            self._result = None
            if args is None:
                rc, res = await conn._call(_m.PYW_QUERY, None, query, STREAMING)
            else:
                nbe = _m.mywire_server_status(ptr) & _m.MYWIRE_STATUS_NO_BACKSLASH_ESCAPES
                try:
                    sql, names, count = _m.pyw_format(query, 1 if nbe else 0)
                except ValueError as e:
                    raise ProgrammingError(0, str(e)) from None
                params = _SyncCursor._params(None, args, names, count)
                if count == 0:
                    rc, res = await conn._call(_m.PYW_QUERY, None, sql, STREAMING)
                else:
                    st = await conn._statement(sql)
                    try:
                        bound = _m.pyw_bind(st, params)
                        if bound is not None:
                            raise client_error(bound[0], bound[1])
                        rc, res = await conn._call(_m.PYW_EXECUTE, st, None, STREAMING)
                    finally:
                        # back to the cache (the call has ended: _call finishes
                        # it even when cancelled); the result stays readable
                        _m.mywire_stmt_free(st)
            if rc != OK:
                raise conn_error(ptr, rc)
            r = _Result(res, False)
            self._result = r
            conn._active = r
            rc, rows, desc, affected, insert_id, self.warning_count = \
                _m.pyw_load(res, ptr, 0)
            if desc is None:
                r.done = True
                self.rowcount = affected
                self.lastrowid = insert_id
            else:
                self.description = desc
        return self.rowcount

    async def executemany(self, query, seq_of_args, *, row_results=False):
        """As Cursor.executemany, on the event loop: the parameter sets of a
        statement without a result set go as batches (MariaDB's bulk
        execution; a new batch where a parameter's type changes), anything
        else runs one execute per set. rowcount is the total of affected
        rows, lastrowid the first set's; with row_results=True,
        self.row_results is a list of (affected_rows, insert_id) per set."""
        conn = self.connection
        ptr = self._ptr()
        nbe = _m.mywire_server_status(ptr) & _m.MYWIRE_STATUS_NO_BACKSLASH_ESCAPES
        try:
            sql, names, count = _m.pyw_format(query, 1 if nbe else 0)
        except ValueError as e:
            raise ProgrammingError(0, str(e)) from None
        if count == 0 or conn._client_side:
            return await self._execute_each(query, seq_of_args, row_results)
        totals = [0, None]  # affected rows, the first insert id
        per_row = [] if row_results else None
        async with conn._lock:
            await conn._begin()
            self.description = None
            self.rowcount = -1
            self.lastrowid = None
            self.row_results = None
            self._buffer.clear()
            self._n = 0
            self._result = None
            st = await conn._statement(sql)
            try:
                if _m.mywire_stmt_column_count(st) != 0 or _m.mywire_stmt_is_client_side(st):
                    each = True
                else:
                    each = False
                    if row_results:
                        _m.mywire_stmt_set_row_results(st, 1)
                    for args in seq_of_args:
                        params = _SyncCursor._params(None, args, names, count)
                        rc = self._add_row(st, params)
                        if rc == _m.MYWIRE_ERROR_ARGUMENT and _m.mywire_stmt_batch_size(st) > 0:
                            # another type than the batch's: run it, then start a
                            # new one (binding again: running row by row leaves
                            # the last row sent bound)
                            await self._run_batch(st, ptr, totals, per_row)
                            rc = self._add_row(st, params)
                        if rc != OK:
                            raise conn_error(ptr, rc)
                    if _m.mywire_stmt_batch_size(st) > 0:
                        await self._run_batch(st, ptr, totals, per_row)
            finally:
                # back to the cache as it was lent: no batch, no row results
                _m.mywire_stmt_clear_batch(st)
                _m.mywire_stmt_set_row_results(st, 0)
                _m.mywire_stmt_free(st)
        if each:
            return await self._execute_each(query, seq_of_args, row_results)
        self.rowcount = totals[0]
        self.lastrowid = totals[1]
        self.row_results = per_row
        return totals[0]

    @staticmethod
    def _add_row(st, params):
        bound = _m.pyw_bind(st, params)
        if bound is not None:
            raise client_error(bound[0], bound[1])
        return _m.mywire_stmt_add_batch(st)

    async def _run_batch(self, st, ptr, totals, per_row):
        rc, res = await self.connection._call(_m.PYW_EXECUTE_BATCH, st, None, 0)
        if rc != OK:
            raise conn_error(ptr, rc)
        try:
            totals[0] += _m.mywire_affected_rows(res)
            if totals[1] is None:
                totals[1] = _m.mywire_insert_id(res)
            if per_row is not None:
                per_row.extend(_m.pyw_row_results(res))
        finally:
            _m.mywire_result_free(res)

    async def _execute_each(self, query, seq_of_args, row_results):
        totals = _EachTotals(row_results)
        for args in seq_of_args:
            await self.execute(query, args)
            if self.description is not None:
                await self.fetchall()  # rowcount: the rows
            totals.add(self)
        return totals.finish(self)

    async def _more(self, n):
        """Read up to n more rows (n < 0: all) into the buffer."""
        r = self._result
        if r is None or self.description is None:
            raise ProgrammingError(0, 'no result set to fetch from (execute a query first)')
        if r.done:
            if r.ptr is None and self.rowcount < 0:
                raise ProgrammingError(0, 'the rest of this result was discarded: another '
                                          'command ran on the connection',
                                       code=_m.MYWIRE_ERROR_OUT_OF_SYNC)
            return
        conn = self.connection
        ptr = self._ptr()
        got = []

        def fn():
            want = -1 if n < 0 else n - len(got)
            rc, rows = _m.pyw_fetch(r.ptr, ptr, want, 1, 0)
            got.extend(rows)
            return rc, None

        async with conn._lock:
            if conn._active is not r:
                raise ProgrammingError(0, 'the rest of this result was discarded',
                                       code=_m.MYWIRE_ERROR_OUT_OF_SYNC)
            rc, _ = await conn._step(fn)
        self._n += len(got)
        self._buffer.extend(got)
        if rc == DONE:
            r.done = True
            self.rowcount = self._n
        elif rc != ROW:
            r.done = True
            raise conn_error(ptr, rc)

    async def fetchone(self):
        if not self._buffer:
            await self._more(_FETCH_BATCH)
        return self._buffer.popleft() if self._buffer else None

    async def fetchmany(self, size=None):
        if size is None:
            size = self.arraysize
        if len(self._buffer) < size:
            await self._more(size - len(self._buffer))
        return [self._buffer.popleft() for _ in range(min(size, len(self._buffer)))]

    async def fetchall(self):
        await self._more(-1)
        out = list(self._buffer)
        self._buffer.clear()
        return out

    def __aiter__(self):
        return self

    async def __anext__(self):
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    async def close(self):
        if self._closed:
            return
        conn = self.connection
        r = self._result
        try:
            if r is not None and conn._active is r and conn._ptr is not None:
                async with conn._lock:
                    await conn._begin()
        finally:
            self._closed = True
            self._buffer.clear()
            self._result = None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()
        return False
