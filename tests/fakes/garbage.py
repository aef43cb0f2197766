"""Answers no provider protocol allows, for every fake: what a captive portal, a proxy, a broken
deploy or a dying connection sends back. Used by the ``garbage_*`` scenarios of the fakes.

Shapes: ``html`` (200 text/html portal page), ``truncated_json`` (200, JSON cut off),
``wrong_types`` (200, valid JSON of the wrong shape; per provider), ``bad_base64`` (200, image
data that is not base64; per provider), ``not_an_image`` (200, base64 of bytes that are no image;
per provider), ``empty`` (200 with no body), ``no_image`` (200 ``{}``), ``trickle`` (200 whose
body arrives one byte a second, forever), ``proxy_html_502`` (502 with a proxy's HTML page).
"""

import asyncio

from starlette.responses import JSONResponse, Response, StreamingResponse

SHAPES = (
    "html",
    "truncated_json",
    "wrong_types",
    "bad_base64",
    "not_an_image",
    "empty",
    "no_image",
    "trickle",
    "proxy_html_502",
)
PORTAL = b"<!DOCTYPE html><html><head><title>Hotel Wi-Fi</title></head><body>Please log in</body></html>"


async def _trickle():
    yield b'{"candidates": ['
    while True:
        await asyncio.sleep(1.0)
        yield b" "


def garbage(shape: str, specific: dict[str, object]) -> Response:
    """The answer of ``shape``; ``specific`` holds the provider's own ``wrong_types``,
    ``bad_base64`` and ``not_an_image`` JSON bodies."""
    if shape == "html":
        return Response(PORTAL, media_type="text/html")
    if shape == "truncated_json":
        return Response(
            b'{"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/pn',
            media_type="application/json",
        )
    if shape in ("wrong_types", "bad_base64", "not_an_image"):
        return JSONResponse(specific[shape])
    if shape == "empty":
        return Response(b"", media_type="application/json")
    if shape == "no_image":
        return JSONResponse({})
    if shape == "trickle":
        return StreamingResponse(_trickle(), media_type="application/json")
    if shape == "proxy_html_502":
        return Response(b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>", 502, media_type="text/html")
    raise ValueError(f"unknown garbage shape {shape}")
