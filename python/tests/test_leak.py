"""test_leak.py: 1,000 InferenceSession create/run/close cycles leave the process as they found
it: RSS grows by less than 4 MiB in all (a leaked graph would cost at least the model's
weights, 128 KiB for this model, on every cycle: 128 MiB), no program is built again (the
context's counters), and no session object survives."""

import gc

import numpy as np

import nncl

CYCLES, WARMUP = 1000, 100
BOUND = 4 << 20  # allocator noise (arenas, fragmentation) stays well below; one leaked graph per
# cycle would exceed it 30 times over


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_sessions_do_not_leak(fashion_cnn):
    x = np.random.default_rng(0).random((1, 1, 28, 28), dtype=np.float32)

    def cycle():
        s = nncl.InferenceSession(fashion_cnn)
        (logits,) = s.run(["logits"], {"input": x})
        s.close()
        return logits

    want = cycle()
    for _ in range(WARMUP):
        cycle()
    gc.collect()
    before, stats_before = rss_bytes(), nncl.InferenceSession(fashion_cnn).stats()
    for _ in range(CYCLES):
        got = cycle()
    gc.collect()
    growth = rss_bytes() - before
    stats = nncl.InferenceSession(fashion_cnn).stats()
    np.testing.assert_array_equal(got, want)
    print("RSS growth over %d cycles: %d KiB" % (CYCLES, growth >> 10))
    assert growth < BOUND, "RSS grew by %d KiB over %d cycles" % (growth >> 10, CYCLES)
    assert stats["program_builds"] == stats_before["program_builds"]
    assert stats["program_disk_hits"] == stats_before["program_disk_hits"]
    assert stats["kernel_launches"] > stats_before["kernel_launches"]
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, nncl.InferenceSession)]
