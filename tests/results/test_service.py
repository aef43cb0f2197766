"""QR codes: rendered once per text in the image pool (off the event loop), least recently used dropped."""

import threading

from photochanger.results import service
from photochanger.results.service import QrCodes
from photochanger.workers import WorkerPool


async def test_a_qr_code_is_rendered_once_off_the_event_loop_and_kept(monkeypatch):
    rendered: list[tuple[str, str]] = []
    real = service.qr_svg

    def counting(text: str) -> str:
        rendered.append((text, threading.current_thread().name))
        return real(text)

    monkeypatch.setattr(service, "qr_svg", counting)
    codes = QrCodes(WorkerPool("images", 1, 4), entries=2)
    first = await codes.svg("https://booth.example/r/1")
    assert first.startswith("<svg") and "qr-path" in first
    assert await codes.svg("https://booth.example/r/1") == first  # from the cache
    assert [text for text, _ in rendered] == ["https://booth.example/r/1"]
    assert rendered[0][1].startswith("photochanger-images")  # a pool thread, not the loop's
    await codes.svg("https://booth.example/r/2")
    await codes.svg("https://booth.example/r/1")  # used again: now the most recent
    await codes.svg("https://booth.example/r/3")  # evicts r/2, the least recently used
    await codes.svg("https://booth.example/r/1")
    await codes.svg("https://booth.example/r/2")
    assert [text[-3:] for text, _ in rendered] == ["r/1", "r/2", "r/3", "r/2"]
