"""The one private part of redis-py we rely on: every client of ours reads replies with
redis-py's own RESP3 parser (``redis._parsers._RESP3Parser``, named in
``socialads.store.base.READER``) rather than hiredis's reader, which is faster alone but polls
the socket before each command taken from a pool and costs more than it saves under gevent
(the measurement is in ``socialads/store/base.py``). If an upgrade renames or moves the class,
or stops honouring ``parser_class``, this fails before a silent slowdown ships."""

from __future__ import annotations

import redis
from redis._parsers import _RESP3Parser
from redis._parsers.base import BaseParser

from socialads.store.base import READER, connect, listener_connection


def test_the_resp3_parser_is_still_where_we_import_it_from():
    assert READER == {"protocol": 3, "parser_class": _RESP3Parser}
    assert issubclass(_RESP3Parser, BaseParser)


def test_our_clients_read_with_it_and_speak_resp3(redis_server):
    for client in (connect(redis_server.url), listener_connection(redis_server.url)):
        try:
            assert client.ping()
            connection = client.connection_pool.get_connection()
            try:
                assert isinstance(connection._parser, _RESP3Parser)
                assert connection.protocol == 3
            finally:
                client.connection_pool.release(connection)
        finally:
            client.close()


def test_hiredis_still_packs_commands():
    """hiredis (a dependency) is kept for packing commands in C; only its reader is not used."""
    import hiredis  # noqa: F401  (installed: redis-py picks its packer when it imports)

    assert redis.utils.HIREDIS_AVAILABLE
