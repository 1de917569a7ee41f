"""``Simulator.stop()`` ends the API server completely: listening socket, kept-alive connections, their threads."""

from __future__ import annotations

import http.client
import socket
import threading

import pytest

from simulator import Simulator


def _kept_alive_connection(sim: Simulator) -> http.client.HTTPConnection:
    """An HTTP/1.1 connection that has completed one request and stays open for the next."""
    connection = http.client.HTTPConnection(sim.host, sim.port, timeout=5)
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"ok")
    assert not response.will_close
    return connection


def _server_hung_up(connection: http.client.HTTPConnection, timeout: float = 2.0) -> bool:
    """Whether the server closed its end: a read returns end-of-file (or a reset) instead of waiting."""
    assert connection.sock is not None
    connection.sock.settimeout(timeout)
    try:
        return connection.sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_stop_closes_kept_alive_connections() -> None:
    sim = Simulator(with_bookinfo=False).start(port=0)
    connection = _kept_alive_connection(sim)
    try:
        sim.stop()
        assert _server_hung_up(connection)
    finally:
        connection.close()


def test_stopped_server_answers_no_request_on_a_kept_alive_connection() -> None:
    sim = Simulator(with_bookinfo=False).start(port=0)
    connection = _kept_alive_connection(sim)
    try:
        sim.stop()
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            connection.request("GET", "/healthz")
            connection.getresponse()
    finally:
        connection.close()


def test_stop_leaves_no_simulator_threads_behind() -> None:
    before = set(threading.enumerate())
    sim = Simulator(with_bookinfo=False, bookmark_interval=0.2).start(port=0)
    idle = _kept_alive_connection(sim)
    watch = http.client.HTTPConnection(sim.host, sim.port, timeout=5)
    watch.request("GET", "/api/v1/pods?watch=true")
    assert watch.getresponse().status == 200
    try:
        sim.stop()
        assert [thread.name for thread in set(threading.enumerate()) - before] == []
    finally:
        idle.close()
        watch.close()


def test_stop_closes_the_listening_socket() -> None:
    sim = Simulator(with_bookinfo=False).start(port=0)
    sim.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((sim.host, sim.port), timeout=2).close()
