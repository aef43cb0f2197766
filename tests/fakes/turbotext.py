"""A fake Turbotext photo-AI server speaking the real protocol (``docs/providers.md``, Turbotext).

``POST /api_ai/{method}`` form-encoded with ``Authorization: Bearer``; ``do=create_queue`` fetches
the input ``url``/``url_image_target`` over HTTP like the real service (so our public links are
exercised for real) and answers ``{"success": true, "queueid": N}``; ``do=get_result`` answers
``{"action": "reconnect"}`` ``reconnects`` times, then the result with the image at the chosen
``placement``: ``top`` (``uploaded_image``), ``data`` (``data.uploaded_image``) or ``relative``
(``data.image[0]``, a path under the site root).

Scenarios: ``success``, ``limit`` (``{"success": false, "error": "LIMIT"}``), ``create_500``,
``create_hang`` (create_queue never answers: ambiguous), ``poll_500_once``, ``garbage_<shape>``
(``tests/fakes/garbage.py``: create_queue answers it; ``bad_base64``/``not_an_image``: the result
file is no image).
"""

import asyncio
import io
import itertools
import threading
from dataclasses import dataclass, field

import httpx
from PIL import Image, ImageOps
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.garbage import PORTAL, garbage
from tests.fakes.server import ThreadedServer

TURBOTEXT_GARBAGE = {"wrong_types": {"success": 1, "queueid": 0, "error": {"code": 5}}}


@dataclass
class Queue:
    """One queued job: its inputs as fetched (status, bytes) and how many polls remain."""

    method: str
    fields: dict
    fetched: dict = field(default_factory=dict)
    reconnects: int = 0
    polls: int = 0


class FakeTurbotext:
    """See module docstring."""

    def __init__(self, api_key: str = "test-turbotext-key") -> None:
        self.api_key = api_key
        self.queues: dict[int, Queue] = {}
        self.creates = 0
        self.scenario, self.reconnects, self.placement = "success", 2, "top"
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._results: dict[str, bytes] = {}
        self._server = ThreadedServer(
            Starlette(
                routes=[
                    Route("/api_ai/{method}", self._api, methods=["POST"]),
                    Route("/download.php", self._download),
                    Route("/image/{name}", self._download),
                ]
            )
        )
        self.site = ""

    @property
    def url(self) -> str:
        return f"{self.site}/api_ai"

    def start(self) -> "FakeTurbotext":
        self.site = self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self, scenario: str = "success", reconnects: int = 2, placement: str = "top") -> None:
        with self._lock:
            self.queues.clear()
            self.creates = 0
            self.scenario, self.reconnects, self.placement = scenario, reconnects, placement

    async def _api(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse({"success": False, "error": "Unauthorized"}, status_code=401)
        form = dict(await request.form())
        method = request.path_params["method"]
        if form.get("do") == "create_queue":
            return await self._create(method, form)
        if form.get("do") == "get_result":
            return self._poll(int(form.get("queueid", 0)))
        return JSONResponse({"success": False, "error": "params_error"})

    async def _create(self, method: str, form: dict) -> Response:
        self.creates += 1
        if self.scenario == "create_500":
            return Response("Internal Server Error", status_code=500)
        if self.scenario == "create_hang":
            await asyncio.sleep(3600)
        if self.scenario == "limit":
            return JSONResponse({"success": False, "error": "LIMIT"})
        if self.scenario.startswith("garbage_") and self.scenario not in ("garbage_bad_base64", "garbage_not_an_image"):
            return garbage(self.scenario.removeprefix("garbage_"), TURBOTEXT_GARBAGE)
        required = {
            "generate_image2image": ("url", "content"),
            "mix_images": ("url", "url_image_target"),
            "deepfake_photo": ("url", "url_image_target"),
        }.get(method)
        if required is None or any(not form.get(k) for k in required):
            return JSONResponse({"success": False, "error": "params_error"})
        queue = Queue(method, form, reconnects=self.reconnects)
        async with httpx.AsyncClient() as client:
            for key in ("url", "url_image_target"):
                if form.get(key):
                    response = await client.get(form[key])
                    queue.fetched[key] = (response.status_code, response.content)
        if any(status != 200 for status, _ in queue.fetched.values()):
            return JSONResponse({"success": False, "error": "url_error"})
        queue_id = next(self._ids)
        self.queues[queue_id] = queue
        return JSONResponse({"success": True, "queueid": queue_id})

    def _poll(self, queue_id: int) -> Response:
        queue = self.queues.get(queue_id)
        if queue is None:
            return JSONResponse({"success": False, "error": "queue not found"})
        queue.polls += 1
        if self.scenario == "poll_500_once" and queue.polls == 1:
            return Response("Bad Gateway", status_code=502)
        if queue.reconnects > 0:
            queue.reconnects -= 1
            return JSONResponse(
                {"action": "reconnect"} if queue.reconnects % 2 else {"success": False, "action": "reconnect"}
            )
        photo_key = "url_image_target" if queue.method == "mix_images" else "url"
        name = f"generate_{queue.method}_id{queue_id}_0.png"
        with Image.open(io.BytesIO(queue.fetched[photo_key][1])) as img:
            buffer = io.BytesIO()
            ImageOps.grayscale(img).save(buffer, "PNG")
        self._results[name] = buffer.getvalue()
        data = {"width": 512, "height": 512, "seed": 7}
        body = {"success": True, "error": "", "data": data}
        if self.placement == "top":
            body["uploaded_image"] = f"{self.site}/download.php?f={name}"
        elif self.placement == "data":
            data["uploaded_image"] = f"{self.site}/download.php?f={name}"
        else:
            data["image"] = [f"image/{name}"]
        return JSONResponse(body)

    async def _download(self, request: Request) -> Response:
        name = request.query_params.get("f") or request.path_params.get("name", "")
        content = self._results.get(name)
        if content and self.scenario in ("garbage_bad_base64", "garbage_not_an_image"):
            return Response(PORTAL, media_type="image/png")  # a "result" that is no image
        return Response(content, media_type="image/png") if content else Response(status_code=404)
