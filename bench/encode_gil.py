"""Does image work hold the GIL? Encodes (and decodes) the DSLR fixture's 1125 × 750 provider copy
in one thread, then the same work twice in two threads, and prints the wall-time ratio: 1.0 means
the threads ran in parallel (GIL released), 2.0 that they took turns (GIL held — the event loop
waits as well). Compares Pillow encoding into ``io.BytesIO`` with encoding into a file descriptor
(what :func:`photochanger.imaging.encode` does).

Usage: python -m bench.encode_gil [--rounds 40]
"""

import argparse
import io
import threading
import time
from collections.abc import Callable

from PIL import Image

from photochanger import imaging
from tests.conftest import PHOTOS


def _ratio(work: Callable[[], None]) -> tuple[float, float]:
    """(ms per call in one thread, wall time of two threads doing it ÷ wall time of one)."""
    started = time.perf_counter()
    work()
    one = time.perf_counter() - started
    threads = [threading.Thread(target=work) for _ in range(2)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return one, (time.perf_counter() - started) / one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    source = (PHOTOS / "astronaut_dslr_4500x3000.jpg").read_bytes()
    img = Image.open(io.BytesIO(source))
    img.draft("RGB", (1125, 750))
    img.load()

    def into_bytesio() -> None:
        for _ in range(args.rounds):
            img.save(io.BytesIO(), "JPEG", quality=92)

    def into_descriptor() -> None:
        for _ in range(args.rounds):
            imaging.encode(img, "image/jpeg", 92)

    def scaled_decode() -> None:
        for _ in range(args.rounds):
            imaging.prepare(source, 1024)

    for name, work in (("JPEG encode into BytesIO", into_bytesio), ("JPEG encode into a descriptor (ours)",
                       into_descriptor), ("DCT-scaled decode + encode (prepare)", scaled_decode)):  # fmt: skip
        one, ratio = _ratio(work)
        print(f"{name:38s} {one * 1000 / args.rounds:6.1f} ms per image   two threads: {ratio:.2f}× the wall time")


if __name__ == "__main__":
    main()
