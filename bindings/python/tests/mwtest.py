"""Shared by the Python binding's tests: the server's address from the
MYWIRE_TEST_* variables (tests/server/mariadb.sh), and a unittest main."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def env(name):
    value = os.environ.get(name)
    if value is None:
        raise RuntimeError('%s is not set: start tests/server/mariadb.sh and source its env'
                           % name)
    return value


def tcp_args(**extra):
    args = dict(host=env('MYWIRE_TEST_HOST'), port=int(env('MYWIRE_TEST_PORT')),
                user=env('MYWIRE_TEST_USER'), password=env('MYWIRE_TEST_PASSWORD'),
                database=env('MYWIRE_TEST_DB'), ssl_mode='disabled')
    args.update(extra)
    return args


def socket_args(**extra):
    args = dict(socket=env('MYWIRE_TEST_SOCKET'), user=env('MYWIRE_TEST_USER'),
                password=env('MYWIRE_TEST_PASSWORD'), database=env('MYWIRE_TEST_DB'))
    args.update(extra)
    return args


def connect(**extra):
    import mywire
    return mywire.connect(**tcp_args(**extra))


def main():
    unittest.main(verbosity=2)
