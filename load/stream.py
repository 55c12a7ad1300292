"""Streaming load: frame → SSE latency, memory per open stream, CPU per transcoded event.

    python3 load/stream.py [--streams 1000] [--frames 300] [--scale]

Starts `basalt-sim --no-verify --no-record` and `basalt` on loopback (release builds must exist:
`cargo build --release --bins`). The simulator's `[sim:stamp=N]` answers carry, in each text
delta, the wall-clock time the frame was written, so the client can compute frame → client delay
for every event, directly from the simulator and through basalt, with the same client code.

1. latency: one stream of --frames deltas, 10 ms apart, direct then through basalt; medians.
2. open streams: --streams concurrent streams held open (1 frame/s); the gateway's RSS before and
   while they are open, ÷ streams; the gateway's CPU per event while they trickle.
0. time to first byte: 300 streaming requests one at a time, direct then through basalt.
3. throughput: 16 concurrent unpaced streams of 2,000 deltas; gateway CPU ÷ events.
4. with --scale: a fresh gateway per size; RSS idle and with 100, 1,000, 5,000 streams open.
"""

import argparse
import asyncio
import re
import resource
import socket
import time

from lib import Stack, chat_body, converse_body, machine, median, percentile, proc_cpu_seconds, proc_rss_kib

STAMP = re.compile(rb'"(?:content|text)":"(\d{19}) ')


def request_bytes(addr, path, body, extra=b""):
    return (b"POST %s HTTP/1.1\r\nhost: %s:%d\r\ncontent-type: application/json\r\n%s"
            b"content-length: %d\r\n\r\n" % (path.encode(), addr[0].encode(), addr[1], extra, len(body)) + body)


def gw_request(stack, text):
    return request_bytes(stack.gw_addr, "/v1/chat/completions", chat_body(text, stream=True))


def sim_request(stack, text):
    return request_bytes(stack.sim_addr, "/model/amazon.nova-micro-v1%3A0/converse-stream", converse_body(text))


def stamped_latencies(addr, request, expect):
    """Send one streaming request; for each stamped delta, receive time − send time (µs)."""
    out = []
    tail = b""
    with socket.create_connection(addr) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(request)
        while len(out) < expect:
            data = s.recv(1 << 16)
            now = time.time_ns()
            if not data:
                break
            buf = tail + data
            matches = list(STAMP.finditer(buf))
            out.extend((now - int(m.group(1))) / 1000 for m in matches)
            tail = buf[matches[-1].end():] if matches else buf[-64:]
    return out


def latency(stack, frames):
    text = f"[sim:stamp={frames}] [sim:pace=10ms]"
    stamped_latencies(stack.gw_addr, gw_request(stack, "[sim:stamp=20]"), 20)  # warm the pool
    direct = stamped_latencies(stack.sim_addr, sim_request(stack, text), frames)
    via = stamped_latencies(stack.gw_addr, gw_request(stack, text), frames)
    return direct, via


def first_byte(addr, request, n=300):
    """Time from sending a streaming request to the first response byte, on a connection
    opened beforehand; n requests one at a time, µs each."""
    out = []
    for _ in range(n):
        with socket.create_connection(addr) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            t0 = time.perf_counter_ns()
            s.sendall(request)
            if not s.recv(1 << 16):
                raise RuntimeError("closed before the first byte")
            out.append((time.perf_counter_ns() - t0) / 1000)
            s.shutdown(socket.SHUT_WR)
            while s.recv(1 << 16):
                pass
    return out


async def hold_streams(stack, n, frames):
    """Open n streams, wait until each has its first delta; return when all are open."""
    req = gw_request(stack, f"[sim:stamp={frames}] [sim:pace=1s]")
    conns = []
    started = asyncio.Event()
    opened = 0

    async def one():
        nonlocal opened
        reader, writer = await asyncio.open_connection(*stack.gw_addr)
        conns.append(writer)
        writer.write(req)
        await writer.drain()
        buf = b""
        while not STAMP.search(buf):
            chunk = await reader.read(1 << 16)
            if not chunk:
                raise RuntimeError("stream closed before its first delta")
            buf += chunk
        opened += 1
        if opened == n:
            started.set()
        events = 1
        while True:
            chunk = await reader.read(1 << 16)
            if not chunk:
                return events
            events += len(STAMP.findall(chunk))

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await asyncio.wait_for(started.wait(), 120)
    rss_open = proc_rss_kib(stack.gw.pid)
    cpu0 = proc_cpu_seconds(stack.gw.pid)
    results = await asyncio.gather(*tasks)
    cpu1 = proc_cpu_seconds(stack.gw.pid)
    return rss_open, sum(results), cpu1 - cpu0


def unpaced(stack, streams, frames):
    req = gw_request(stack, f"[sim:stamp={frames}]")

    def one():
        return len(stamped_latencies(stack.gw_addr, req, frames))

    from concurrent.futures import ThreadPoolExecutor

    cpu0 = proc_cpu_seconds(stack.gw.pid)
    t0 = time.monotonic()
    with ThreadPoolExecutor(streams) as pool:
        events = sum(pool.map(lambda _: one(), range(streams)))
    wall = time.monotonic() - t0
    return events, proc_cpu_seconds(stack.gw.pid) - cpu0, wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--scale", action="store_true",
                    help="also RSS against 100, 1,000 and 5,000 open streams")
    args = ap.parse_args()
    # 5,000 streams take 5,000 client sockets here and 10,000 fds in the gateway (the children
    # inherit this limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))

    print(f"# {time.strftime('%Y-%m-%d')} · {machine()}")
    with Stack() as stack:
        direct, via = latency(stack, args.frames)
        d, v = median(direct), median(via)
        print(f"frame → client latency, median of {len(via)} paced frames: direct {d:.0f} µs, "
              f"through basalt {v:.0f} µs, added {v - d:.0f} µs "
              f"(p99 direct {percentile(direct, 99):.0f} µs, via {percentile(via, 99):.0f} µs)")

        first_byte(stack.gw_addr, gw_request(stack, "[sim:stamp=2]"), 20)  # warm the pool
        d = first_byte(stack.sim_addr, sim_request(stack, "[sim:stamp=2]"))
        v = first_byte(stack.gw_addr, gw_request(stack, "[sim:stamp=2]"))
        print(f"time to first byte of a stream, one at a time ({len(v)} streams): direct "
              f"{median(d):.0f} µs, through basalt {median(v):.0f} µs, added {median(v) - median(d):.0f} µs "
              f"(p99 direct {percentile(d, 99):.0f} µs, via {percentile(v, 99):.0f} µs)")

        rss0 = proc_rss_kib(stack.gw.pid)
        rss_open, events, cpu = asyncio.run(hold_streams(stack, args.streams, 30))
        per_stream = (rss_open - rss0) / args.streams
        print(f"{args.streams} open streams: gateway RSS {rss0 / 1024:.1f} MiB idle → {rss_open / 1024:.1f} MiB "
              f"open ({per_stream:.1f} KiB per stream); paced events {events}, "
              f"gateway CPU {cpu * 1e6 / max(events, 1):.1f} µs/event; "
              f"peak RSS {proc_rss_kib(stack.gw.pid, 'VmHWM') / 1024:.1f} MiB")

        events, cpu, wall = unpaced(stack, 16, 2000)
        print(f"16 unpaced streams × 2000 deltas: {events} events in {wall:.2f} s, "
              f"gateway CPU {cpu * 1e6 / max(events, 1):.2f} µs/event")

    if args.scale:
        print("\n| open streams | gateway RSS idle | gateway RSS open | per stream |")
        print("|---|---|---|---|")
        for n in (100, 1000, 5000):
            with Stack() as stack:  # a fresh gateway each time: RSS from the same start
                first_byte(stack.gw_addr, gw_request(stack, "[sim:stamp=2]"), 20)
                rss0 = proc_rss_kib(stack.gw.pid)
                rss_open, _, _ = asyncio.run(hold_streams(stack, n, 5))
                print(f"| {n:,} | {rss0 / 1024:.1f} MiB | {rss_open / 1024:.1f} MiB | "
                      f"{(rss_open - rss0) / n:.1f} KiB |", flush=True)


if __name__ == "__main__":
    main()
