"""The PEP 249 exception hierarchy, and the mapping from mywire's result codes
and the server's error numbers to it."""

from . import _mywire as _m

__all__ = ['Warning', 'Error', 'InterfaceError', 'DatabaseError', 'DataError',
           'OperationalError', 'IntegrityError', 'InternalError', 'ProgrammingError',
           'NotSupportedError']


class Warning(Exception):  # noqa: A001 - the name PEP 249 requires
    """Important warnings, such as data truncation while inserting."""


class Error(Exception):
    """The base of every mywire error.

    ``args`` is ``(errno, message)`` as in mysqlclient and PyMySQL. The
    attributes say more: ``errno`` (the server's error number, 0 for a client
    error), ``sqlstate`` (five characters, "HY000" for client errors),
    ``msg``, ``code`` (the mywire result code, ``mywire.CODE_*``),
    ``client_error`` (``mywire_client_error``: where a client error happened)
    and ``sent`` (whether the failing command reached the socket: when False
    the server cannot have run it).
    """

    def __init__(self, errno=0, msg='', *, sqlstate='HY000', code=0, client_error=0,
                 sent=False):
        super().__init__(errno, msg)
        self.errno = errno
        self.msg = msg
        self.sqlstate = sqlstate
        self.code = code
        self.client_error = client_error
        self.sent = sent

    def __str__(self):
        if self.errno:
            return '(%d, %s) %s' % (self.errno, self.sqlstate, self.msg)
        return self.msg or _m.mywire_errstr(self.code)


class InterfaceError(Error):
    """An error of the interface rather than the database (a closed handle)."""


class DatabaseError(Error):
    """An error related to the database."""


class DataError(DatabaseError):
    """A problem with the processed data (out of range, division by zero)."""


class OperationalError(DatabaseError):
    """An error in the database's operation, not necessarily under the
    programmer's control: lost connection, timeout, deadlock, cancelled."""


class IntegrityError(DatabaseError):
    """The relational integrity is affected (duplicate key, foreign key)."""


class InternalError(DatabaseError):
    """An internal error of the database or of mywire."""


class ProgrammingError(DatabaseError):
    """A programming error: table not found, SQL syntax, wrong number of
    parameters, commands out of sync."""


class NotSupportedError(DatabaseError):
    """A method or API the database does not support."""


# Server error numbers (MariaDB/MySQL ER_*) with a class of their own; the
# others fall back on the SQLSTATE class below.
_SERVER_ERRNO = {}
for _n in (1022, 1048, 1052, 1062, 1169, 1216, 1217, 1451, 1452, 1557, 1586, 1761, 1762,
           3819, 4025):
    _SERVER_ERRNO[_n] = IntegrityError
for _n in (1044, 1046, 1049, 1054, 1064, 1102, 1103, 1110, 1113, 1115, 1117, 1136, 1140,
           1142, 1143, 1146, 1149, 1166, 1171, 1247, 1248, 1267, 1271, 1305, 1318, 1327,
           1347, 1356, 1364, 1382, 1415, 1630):
    _SERVER_ERRNO[_n] = ProgrammingError
for _n in (1101, 1264, 1265, 1292, 1365, 1366, 1367, 1406, 1416, 1441, 1690):
    _SERVER_ERRNO[_n] = DataError
for _n in (1178, 1235, 1289, 1295, 1615, 1626):
    _SERVER_ERRNO[_n] = NotSupportedError
for _n in (1205, 1213, 1040, 1043, 1045, 1053, 1158, 1159, 1160, 1161, 1317):
    _SERVER_ERRNO[_n] = OperationalError

_SQLSTATE_CLASS = {
    '23': IntegrityError,
    '42': ProgrammingError,
    '22': DataError,
    '0A': NotSupportedError,
    '40': OperationalError,
    '08': OperationalError,
    '28': OperationalError,
    'XA': OperationalError,
}

_CODE_CLASS = {
    _m.MYWIRE_ERROR_ARGUMENT: ProgrammingError,
    _m.MYWIRE_ERROR_OPTION: ProgrammingError,
    _m.MYWIRE_ERROR_URI: ProgrammingError,
    _m.MYWIRE_ERROR_NOMEM: OperationalError,
    _m.MYWIRE_ERROR_CONNECT: OperationalError,
    _m.MYWIRE_ERROR_TIMEOUT: OperationalError,
    _m.MYWIRE_ERROR_LOST: OperationalError,
    _m.MYWIRE_ERROR_PROTOCOL: OperationalError,
    _m.MYWIRE_ERROR_AUTH: OperationalError,
    _m.MYWIRE_ERROR_OUT_OF_SYNC: ProgrammingError,
    _m.MYWIRE_ERROR_STATE: InterfaceError,
    _m.MYWIRE_ERROR_LIMIT: OperationalError,
    _m.MYWIRE_ERROR_UNSUPPORTED: NotSupportedError,
    _m.MYWIRE_ERROR_INTERNAL: InternalError,
    _m.MYWIRE_ERROR_TLS: OperationalError,
    _m.MYWIRE_ERROR_CANCELLED: OperationalError,
    _m.MYWIRE_ERROR_RESULT_TOO_LARGE: OperationalError,
    _m.MYWIRE_ERROR_CONVERSION: DataError,
}


def error_class(code, errno=0, sqlstate='HY000'):
    """The exception class for a mywire result code (and, for a server
    error, its number and SQLSTATE)."""
    if code == _m.MYWIRE_ERROR_SERVER:
        cls = _SERVER_ERRNO.get(errno)
        if cls is None:
            cls = _SQLSTATE_CLASS.get(sqlstate[:2], OperationalError)
        return cls
    return _CODE_CLASS.get(code, InternalError)


def conn_error(ptr, code):
    """The exception for a call on the connection handle ptr that returned
    code (the details are on the handle)."""
    if ptr is None:
        return InterfaceError(0, 'the connection is closed', code=_m.MYWIRE_ERROR_STATE)
    errno = _m.mywire_errno(ptr)
    sqlstate = _m.mywire_sqlstate(ptr)
    msg = _m.mywire_errmsg(ptr) or _m.mywire_errstr(code)
    return error_class(code, errno, sqlstate)(
        errno, msg, sqlstate=sqlstate, code=code, client_error=_m.mywire_client_error(ptr),
        sent=bool(_m.mywire_error_sent(ptr)))


def client_error(code, msg):
    """An exception for a code the handle did not record (a binding)."""
    return error_class(code)(0, msg, code=code)
