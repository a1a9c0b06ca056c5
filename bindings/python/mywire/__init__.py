"""mywire: a PEP 249 (DB-API 2.0) client for MySQL and MariaDB over libmywire.

    import mywire
    with mywire.connect(host='db', user='app', password='...', database='shop') as conn:
        cur = conn.cursor()
        cur.execute('SELECT id, name FROM t WHERE id > %s', (10,))
        for row in cur:
            ...

connect() takes the keys of mywire's connection URI as keywords (host, port,
socket, user, password, database, ssl_mode, ssl_ca, compress, ...; see
capi/mywire.h, mywire_set_option) and/or uri='mysql://...'; besides them:
autocommit (default False, as PEP 249 asks), prepare ('server': parameters go
as server-side prepared statements; 'client': formatted on the client as
typed literals, for proxies that cannot prepare), stmt_cache (prepared
statements kept per connection, default 64) and cursorclass.
"""

from . import _mywire
from ._errors import (Warning, Error, InterfaceError, DatabaseError, DataError,  # noqa: F401
                      OperationalError, IntegrityError, InternalError, ProgrammingError,
                      NotSupportedError)
from ._types import (STRING, BINARY, NUMBER, DATETIME, ROWID, Date, Time,  # noqa: F401
                     Timestamp, DateFromTicks, TimeFromTicks, TimestampFromTicks, Binary,
                     DBAPITypeObject)
from ._connection import Connection, Cursor, SSCursor  # noqa: F401

apilevel = '2.0'
threadsafety = 1  # threads may share the module, not connections
paramstyle = 'format'  # and 'pyformat' (%(name)s with a mapping)

__version__ = _mywire.mywire_version()
version_info = tuple(int(x) for x in __version__.split('.')[:3])


def connect(uri=None, **kwargs):
    """Open a Connection; see the module's documentation for the keywords."""
    return Connection(uri, **kwargs)


Connect = connect

# result codes under short names, for Error.code
for _name in dir(_mywire):
    if _name.startswith('MYWIRE_ERROR_') or _name in ('MYWIRE_OK',):
        globals()['CODE_' + _name[len('MYWIRE_ERROR_'):] if _name != 'MYWIRE_OK' else 'CODE_OK'] = \
            getattr(_mywire, _name)
del _name

__all__ = ['connect', 'Connect', 'Connection', 'Cursor', 'SSCursor', 'apilevel',
           'threadsafety', 'paramstyle', 'Warning', 'Error', 'InterfaceError',
           'DatabaseError', 'DataError', 'OperationalError', 'IntegrityError',
           'InternalError', 'ProgrammingError', 'NotSupportedError', 'STRING', 'BINARY',
           'NUMBER', 'DATETIME', 'ROWID', 'Date', 'Time', 'Timestamp', 'DateFromTicks',
           'TimeFromTicks', 'TimestampFromTicks', 'Binary']
