"""Keys stay with their provider and answers are bounded: every provider against a hostile fake
that redirects to another host, names a result on another host, or answers 500 MB."""

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from photochanger.providers.base import FailureKind, InputImage, ProviderFailure, ProviderRequest
from photochanger.providers.gemini import GeminiProvider, GeminiSettings
from photochanger.providers.openai_images import OpenAIProvider, OpenAISettings
from photochanger.providers.turbotext import TurbotextProvider, TurbotextSettings
from tests.conftest import PHOTOS
from tests.fakes.server import ThreadedServer

PHOTO = InputImage((PHOTOS / "astronaut.jpg").read_bytes(), "image/jpeg")
KEY = "key-that-must-not-leave"
CAP = 8 * 1024 * 1024


class Thief:
    """Another host: records every request it gets (none may arrive)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []

        async def steal(request: Request) -> Response:
            self.requests.append(dict(request.headers))
            return Response(b"\xff\xd8stolen", media_type="image/jpeg")

        self.server = ThreadedServer(Starlette(routes=[Route("/{path:path}", steal, methods=["GET", "POST"])]))
        self.url = ""


class Hostile:
    """The provider's own host gone bad: redirects, foreign result URLs, 500 MB answers."""

    def __init__(self, thief_url: str) -> None:
        self.sent = 0

        async def redirect(request: Request) -> Response:
            return Response(status_code=307, headers={"Location": f"{thief_url}/{request.path_params['path']}"})

        async def huge(request: Request) -> Response:
            await request.body()

            async def body():
                yield b'{"data": [{"b64_json": "'
                for _ in range(500):  # 500 MB if the client kept reading
                    self.sent += 1024 * 1024
                    yield b"A" * (1024 * 1024)
                    await asyncio.sleep(0)

            return StreamingResponse(body(), media_type="application/json")

        async def turbotext(request: Request) -> Response:
            form = await request.form()
            if form.get("do") == "create_queue":
                return JSONResponse({"success": True, "queueid": 7})
            return JSONResponse({"success": True, "uploaded_image": f"{thief_url}/download.php?f=x.png"})

        routes = [
            Route("/redirect/{path:path}", redirect, methods=["GET", "POST"]),
            Route("/huge/{path:path}", huge, methods=["POST"]),
            Route("/tt/api_ai/{method}", turbotext, methods=["POST"]),
        ]
        self.server = ThreadedServer(Starlette(routes=routes))
        self.url = ""


@pytest.fixture(scope="module")
def thief():
    fake = Thief()
    fake.url = fake.server.start().replace("127.0.0.1", "localhost")  # another host name
    yield fake
    fake.server.stop()


@pytest.fixture(scope="module")
def hostile(thief):
    fake = Hostile(thief.url)
    fake.url = fake.server.start()
    yield fake
    fake.server.stop()


async def _publish(image: InputImage) -> str:
    return "http://127.0.0.1:9/public/provider-media/x"


def _attempt(provider, settings) -> ProviderRequest:
    return ProviderRequest(PHOTO, [], "a prompt", settings, 20, KEY, _publish)


async def _fails(provider, settings) -> ProviderFailure:
    with pytest.raises(ProviderFailure) as failed:
        await provider.generate(_attempt(provider, settings))
    return failed.value


@pytest.mark.parametrize("name", ["gemini", "openai", "turbotext"])
async def test_a_redirect_is_a_failed_attempt_and_the_other_host_gets_no_key(hostile, thief, name):
    thief.requests.clear()
    provider, settings = {
        "gemini": (GeminiProvider(f"{hostile.url}/redirect", CAP), GeminiSettings()),
        "openai": (OpenAIProvider(f"{hostile.url}/redirect/v1", CAP), OpenAISettings()),
        "turbotext": (TurbotextProvider(f"{hostile.url}/redirect/api_ai", 0.1, CAP), TurbotextSettings()),
    }[name]
    failure = await _fails(provider, settings)
    assert failure.kind is FailureKind.UNEXPECTED_RESPONSE and failure.code == "redirect"
    assert "localhost" in failure.detail
    assert thief.requests == []


async def test_a_turbotext_result_on_another_host_is_refused_without_sending_the_key(hostile, thief):
    thief.requests.clear()
    failure = await _fails(TurbotextProvider(f"{hostile.url}/tt/api_ai", 0.1, CAP), TurbotextSettings())
    assert failure.kind is FailureKind.UNEXPECTED_RESPONSE and failure.code == "foreign_result_url"
    assert thief.requests == []


@pytest.mark.parametrize("name", ["gemini", "openai"])
async def test_an_answer_over_the_cap_is_cut_off_and_not_read_to_the_end(hostile, name):
    hostile.sent = 0
    provider, settings = {
        "gemini": (GeminiProvider(f"{hostile.url}/huge", CAP), GeminiSettings()),
        "openai": (OpenAIProvider(f"{hostile.url}/huge/v1", CAP), OpenAISettings()),
    }[name]
    failure = await _fails(provider, settings)
    assert failure.kind is FailureKind.UNEXPECTED_RESPONSE and failure.code == "answer_too_large"
    assert hostile.sent < 100 * 1024 * 1024  # the fake stopped when the client hung up (socket buffers aside)
