"""A long Discord meeting simulated through the real receive path; prints what was lost, alignment, recovery, CPU.

Six members (corpus voices, real Opus) talk in spurts while they are in the call: four from the start, one joins,
one leaves, one joins late (three epoch changes of a real MLS group: davey members, the voice server played by
`tests.bots.dave_gateway`, the bot on discord.py's own voice websocket with Onno's guarded session). Each member's
frames are DAVE-encrypted by their own session when spoken; the network loses 2 %, delays 1 % past the next packet
and jitters the rest; every sender's sound card runs off the wall clock by up to ±200 ppm. Once, the voice server
sends proposals for a stale epoch (davey: WrongEpoch); the bot must recover on its own (op 31, re-added).

Packets go straight into `MeetingSink.feed` at their arrival times on a simulated clock (the transport layer and
real-time pacing are left out: they are not what is measured), and each member's track is written with
`TrackRecorder` as in a meeting.

    nice .venv/bin/python scripts/sim_discord_voice.py --minutes 120
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bots.discord.ogg import OPUS_SILENCE, repair  # noqa: E402
from bots.discord.receive import MeetingSink  # noqa: E402
from bots.discord.recorder import TrackRecorder  # noqa: E402
from tests.bots import discord_fake as F  # noqa: E402
from tests.bots.dave_gateway import Call, VoiceGateway, proposals_payload, voice_connection  # noqa: E402
from tests.bots.voice_packets import opus_frames, pcm48_stereo  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "dev"
VOICES = [("dev-01-platform-standup", n) for n in ("Michael", "Peter", "Sarah", "Sophie")] + \
         [("dev-02-mobile-standup", n) for n in ("James", "Kevin")]
IDS = [F.MAYA, F.DANIEL, F.LENA, 1300000000000000104, 1300000000000000105, 1300000000000000106]


class Packet:
    __slots__ = ("ssrc", "sequence", "timestamp", "decrypted_data", "padding")

    def __init__(self, ssrc, sequence, timestamp, data):
        self.ssrc, self.sequence, self.timestamp, self.decrypted_data, self.padding = ssrc, sequence, timestamp, data, False


def talk(rng: random.Random, start: float, end: float) -> list[tuple[float, float]]:
    """Talk spurts (start, seconds) of one member while in the call: 1-8 s of speech, 5-40 s apart."""
    out, t = [], start + rng.uniform(0, 10)
    while t < end:
        n = rng.uniform(1, 8)
        out.append((t, min(n, end - t)))
        t += n + rng.uniform(5, 40)
    return out


async def simulate(minutes: float, seed: int, folder: Path) -> dict:
    rng = random.Random(seed)
    duration = minutes * 60
    frames = {uid: opus_frames(pcm48_stereo(CORPUS / f"{m}.tracks" / f"{name}.ogg", 30.0, 5.0))
              for uid, (m, name) in zip(IDS, VOICES, strict=True)}
    names = {uid: name for uid, (_, name) in zip(IDS, VOICES, strict=True)}
    presence = {IDS[0]: (0, duration), IDS[1]: (0, duration * 0.5), IDS[2]: (0, duration), IDS[3]: (0, duration),
                IDS[4]: (duration * 0.25, duration), IDS[5]: (duration * 0.75, duration)}
    events = sorted([(duration * 0.25, "join", IDS[4]), (duration * 0.5, "leave", IDS[1]),
                     (duration * 0.625, "mls_error", None), (duration * 0.75, "join", IDS[5])], key=lambda e: e[0])
    drift = {uid: rng.uniform(-200e-6, 200e-6) for uid in IDS}
    ssrc = {uid: 5000 + i for i, uid in enumerate(IDS)}
    sends = []  # (send time, uid, frame index within the member's speech)
    for uid, (a, b) in presence.items():
        k = 0
        for t0, n in talk(rng, a, b):
            for i in range(int(n / 0.02)):
                sends.append((t0 + i * 0.02, uid, k))
                k += 1
    sends.sort()

    clock = SimpleNamespace(t=0.0)
    rec = TrackRecorder(folder)
    truth: dict[int, list[float]] = {uid: [] for uid in IDS}
    sent_payload: dict[int, list[bytes]] = {uid: [] for uid in IDS}
    got: dict[int, list[tuple[float, bytes]]] = {uid: [] for uid in IDS}
    first: dict[int, int] = {}  # the first and last frame that reached the bot: losses before or after
    last: dict[int, int] = {}  # those cannot be known by any receiver (no packet around them)

    held: list[float] = []  # how long after its place on the clock each frame was handed on (what live adds)

    def on_audio(uid, name, opus, pcm, t):
        got[uid].append((t, opus))
        held.append(clock.t - t)
        rec.write(uid, name, opus, t)

    gaps = []
    async with voice_connection(in_voice=(F.MAYA, F.DANIEL, F.LENA)) as (vc, ws, socket):
        members = {uid: SimpleNamespace(id=uid, display_name=names[uid]) for uid in IDS}
        by_ssrc = {s: members[u] for u, s in ssrc.items()}
        sink = MeetingSink(on_audio, allowed=lambda uid: True, clock=lambda: clock.t, connection=vc._connection,
                           resolve=by_ssrc.get, on_gap=lambda s, why: gaps.append((clock.t, s, why)))
        for uid, s in ssrc.items():
            vc._add_ssrc(uid, s)  # what the speaking op (5) tells voice_recv
        vc.listen(sink)  # voice_recv's reader with Onno's router: a leave (op 13) ends the member's stream
        call = Call(F.VOICE_ID)
        initial = [u for u, (a, _) in presence.items() if a == 0]
        call.join(*initial)
        gw = VoiceGateway(ws, socket, call, F.BOT_ID)
        await gw.json(11, {"user_ids": [str(u) for u in initial]})
        await gw.binary(25, call.sender.package())
        await gw.add_bot()
        seq = {uid: rng.randrange(1 << 16) for uid in IDS}
        ts0 = {uid: rng.randrange(1 << 32) for uid in IDS}
        inflight: list = []
        cpu = 0.0
        next_tick = 0.0
        readd_at = None
        recovered_at = None
        error_at = None
        ops31 = 0

        def deliver(until: float) -> float:
            nonlocal next_tick
            spent = 0.0
            while True:
                due = inflight[0][0] if inflight else None
                if due is not None and due <= until and due <= next_tick:
                    arrival, _, packet = heapq.heappop(inflight)
                    clock.t = arrival
                    c = time.process_time()
                    sink.feed(packet, now=arrival)
                    spent += time.process_time() - c
                elif next_tick <= until:
                    clock.t = next_tick
                    c = time.process_time()
                    sink.tick()
                    spent += time.process_time() - c
                    next_tick += 0.02
                else:
                    return spent

        n = 0
        for s, uid, k in sends + [(duration + 1.0, None, None)]:
            while events and events[0][0] <= s:
                at, kind, who = events.pop(0)
                cpu += deliver(at)
                if kind == "join":
                    await gw.join(who)
                elif kind == "leave":
                    await gw.disconnect(who)
                    cpu += deliver(at + 0.2)  # the last packets in flight arrive before the commit
                    await gw.leave(who)
                else:
                    error_at = at
                    stale = call.sender.add(call.epoch - 1, call.session(IDS[5]).get_serialized_key_package())
                    await gw.binary(27, b"\x00" + proposals_payload([stale]))
                    await asyncio.sleep(0)
            if readd_at is not None and s >= readd_at:
                cpu += deliver(readd_at)
                await gw.remove_bot()
                await gw.add_bot()
                readd_at, recovered_at = None, clock.t
            if uid is None:
                break
            cpu += deliver(s)
            if len(socket.json(31)) > ops31:  # the bot asked for a fresh group: the server re-adds it
                ops31 = len(socket.json(31))
                readd_at = clock.t + 0.5
            session = call.members.get(uid)
            if session is None:
                continue
            frame = frames[uid][k % len(frames[uid])]
            payload = session.encrypt_opus(frame)
            truth[uid].append(s)
            sent_payload[uid].append(frame)
            seq[uid] = (seq[uid] + 1) & 0xFFFF
            ts = (ts0[uid] + int(round(s * 48000 * (1 + drift[uid])))) & 0xFFFFFFFF
            if rng.random() < 0.02:
                continue  # lost on the way
            first.setdefault(uid, len(truth[uid]) - 1)
            last[uid] = len(truth[uid]) - 1
            delay = 0.02 + rng.uniform(0, 0.015) + (0.045 if rng.random() < 0.01 else 0.0)  # 1 %: after the next
            heapq.heappush(inflight, (s + delay, n, Packet(ssrc[uid], seq[uid], ts, payload)))
            n += 1
            if n % 200 == 0:
                await asyncio.sleep(0)  # let discord.py's recovery task run if one was started
        cpu += deliver(duration + 2.0)
        c = time.process_time()
        sink.end_all()
        cpu += time.process_time() - c
        session = ws._connection.dave_session
    rec.close()

    per = {}
    for uid in IDS:
        a, b = first.get(uid, 0), last.get(uid, -1) + 1
        out, sent, spoken = got[uid], sent_payload[uid][a:b], truth[uid][a:b]
        # Frames come out in the order they were sent, one per packet from the first that arrived to the last
        # (lost ones concealed in place); a gap over 5 frames would shift this: counted below as "missing".
        intact = concealed = silent = 0
        errs = []
        for (t, opus), frame, true_t in zip(out, sent, spoken, strict=False):
            if opus == frame:
                intact += 1
                errs.append(t - true_t)  # alignment of what arrived (a concealed frame at a pause could be
                # either spurt's: it is put before the next packet, whose FEC it was made from)
            elif opus == OPUS_SILENCE:
                silent += 1
            else:
                concealed += 1
        _, granule = repair(folder / f"{uid}.ogg")
        per[names[uid]] = {
            "talk_s": len(sent_payload[uid]) * 0.02, "unseen_s": (len(sent_payload[uid]) - len(sent)) * 0.02,
            "lost_s": (len(sent_payload[uid]) - intact) * 0.02, "concealed_s": concealed * 0.02,
            "silent_s": silent * 0.02, "missing_frames": len(sent) - len(out),
            "align_end_ms": errs[-1] * 1000 if errs else 0.0, "align_max_ms": max(map(abs, errs)) * 1000,
            "align_median_ms": statistics.median(errs) * 1000,
 "track_end_s": granule / 48000,
            "last_spoken_s": truth[uid][-1] + 0.02 if truth[uid] else 0.0,
        }
    member_minutes = sum(b - a for a, b in presence.values()) / 60
    return {"per": per, "cpu": cpu, "member_minutes": member_minutes, "gaps": gaps, "error_at": error_at,
            "recovered_at": recovered_at, "ops31": ops31, "mls_errors": session.mls_errors,
            "recoveries": session.recoveries, "epoch": call.epoch, "totals": sink.totals(),
            "packets": n, "minutes": minutes, "held": sorted(held)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=120.0, help="meeting length (simulated)")
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args()
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="onno-sim-voice-") as tmp:
        r = asyncio.run(simulate(args.minutes, args.seed, Path(tmp)))
    wall = time.perf_counter() - wall
    print(f"simulated meeting: {r['minutes']:.0f} min, 6 members, {r['packets']} packets delivered, "
          f"{r['epoch']} MLS epochs, 1 injected MLS error")
    print("lost = not the exact frame sent: concealed (FEC/PLC), silent (not decryptable), unseen (lost before the "
          "first or after the last packet that arrived), miss (frames the sink never gave out)")
    print(f"{'member':8} {'talk s':>8} {'lost s':>7} {'conceal':>7} {'silent':>6} {'unseen':>6} {'miss':>4} "
          f"{'align end ms':>12} {'align max ms':>12} {'track end s':>11} {'last spoken s':>13}")
    for name, p in r["per"].items():
        print(f"{name:8} {p['talk_s']:8.1f} {p['lost_s']:7.2f} {p['concealed_s']:7.2f} {p['silent_s']:6.2f} "
              f"{p['unseen_s']:6.2f} "
              f"{p['missing_frames']:4d} {p['align_end_ms']:12.1f} {p['align_max_ms']:12.1f} "
              f"{p['track_end_s']:11.2f} {p['last_spoken_s']:13.2f}")
    ends = [p["align_end_ms"] for p in r["per"].values()]
    print(f"alignment at the end: {min(ends):.1f} to {max(ends):.1f} ms after the true time "
          f"(spread {max(ends) - min(ends):.1f} ms)")
    rec = r["recovered_at"]
    print(f"MLS error at {r['error_at']:.0f} s: caught {r['mls_errors']}, recoveries {r['recoveries']}, "
          f"op 31 sent {r['ops31']}, re-added at {rec:.1f} s" if rec else "MLS error: NOT recovered")
    held = r["held"]
    print(f"frames handed on (to the live engine and the tracks) after their place on the meeting clock: "
          f"p50 {1000 * held[len(held) // 2]:.0f} ms, p95 {1000 * held[int(len(held) * 0.95)]:.0f} ms, "
          f"p99 {1000 * held[int(len(held) * 0.99)]:.0f} ms, max {1000 * held[-1]:.0f} ms")
    print("audio-lost notices:", ", ".join(f"{s:.1f} s at {t:.0f} s ({why})" for t, s, why in r["gaps"]) or "none")
    print("receive counts:", r["totals"])
    print(f"CPU in the receive path: {r['cpu']:.1f} s for {r['member_minutes']:.0f} member-minutes = "
          f"{100 * r['cpu'] / (r['member_minutes'] * 60):.2f} % of one core per member present "
          f"(run took {wall:.0f} s wall)")


if __name__ == "__main__":
    main()
