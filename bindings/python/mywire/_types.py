"""PEP 249 type objects and constructors."""

import datetime as _dt
import time as _time

from . import _mywire as _m

__all__ = ['STRING', 'BINARY', 'NUMBER', 'DATETIME', 'ROWID', 'Date', 'Time', 'Timestamp',
           'DateFromTicks', 'TimeFromTicks', 'TimestampFromTicks', 'Binary']


class DBAPITypeObject(frozenset):
    """A set of MYWIRE_TYPE_* numbers that compares equal to each of its
    members, so that ``cursor.description[i][1] == mywire.NUMBER`` works."""

    def __eq__(self, other):
        if isinstance(other, int) and not isinstance(other, bool):
            return other in self
        return frozenset.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = frozenset.__hash__

    def __repr__(self):
        return 'DBAPITypeObject(%s)' % sorted(self)


def _types(*names):
    return DBAPITypeObject(getattr(_m, 'MYWIRE_TYPE_' + n) for n in names)


STRING = _types('ENUM', 'SET', 'STRING', 'VAR_STRING', 'VARCHAR', 'JSON')
BINARY = _types('TINY_BLOB', 'MEDIUM_BLOB', 'LONG_BLOB', 'BLOB', 'GEOMETRY')
NUMBER = _types('DECIMAL', 'NEWDECIMAL', 'TINY', 'SHORT', 'LONG', 'FLOAT', 'DOUBLE',
                'LONGLONG', 'INT24', 'YEAR', 'BIT')
DATETIME = _types('DATETIME', 'TIMESTAMP', 'DATE', 'TIME')
ROWID = DBAPITypeObject()

Date = _dt.date
Time = _dt.time
Timestamp = _dt.datetime
Binary = bytes


def DateFromTicks(ticks):
    return Date(*_time.localtime(ticks)[:3])


def TimeFromTicks(ticks):
    return Time(*_time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks):
    return Timestamp(*_time.localtime(ticks)[:6])
