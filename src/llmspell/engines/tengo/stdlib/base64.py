"""Tengo's ``base64`` module: standard and URL alphabets, padded or raw."""

from __future__ import annotations

import base64 as _b64
import binascii
from typing import Any

from ..memory import HEADER, SMALL
from ..objects import Error, ImmutableMap
from ._args import SizeLimits, arg_bytes, module, nargs, need


def _encoder(url: bool, raw: bool):
    def encode(*args: Any) -> str:
        nargs(args, 1)
        data = arg_bytes(args, 0)
        if len(data) > SMALL:
            need(HEADER + 2 * len(data))  # the encoded bytes, then their text
        text = (_b64.urlsafe_b64encode if url else _b64.b64encode)(data).decode("ascii")
        return text.rstrip("=") if raw else text

    return encode


def _first_bad(text: str, alphabet: str) -> int:
    for i, c in enumerate(text):
        if c not in alphabet:
            return i
    return len(text)


def _decoder(url: bool, raw: bool):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + ("-_" if url else "+/")

    def decode(*args: Any) -> Any:
        nargs(args, 1)
        text = arg_bytes(args, 0).decode("latin-1").replace("\r", "").replace("\n", "")
        body = text if raw else text.rstrip("=")
        bad = _first_bad(body, alphabet)
        if bad < len(body):
            return Error(f"illegal base64 data at input byte {bad}")
        pad = len(text) - len(body)
        if raw and pad:
            return Error(f"illegal base64 data at input byte {len(body)}")
        if len(body) % 4 == 1 or (not raw and (len(text) % 4 or pad > 2)):
            return Error(f"illegal base64 data at input byte {len(body) if pad else max(len(body) - 1, 0)}")
        padded = body + "=" * (-len(body) % 4)
        try:
            decoder = _b64.urlsafe_b64decode if url else _b64.b64decode
            return decoder(padded.encode("ascii"))
        except (binascii.Error, ValueError) as exc:
            return Error(f"illegal base64 data: {exc}")

    return decode


def build(host: Any) -> ImmutableMap:
    return module(
        {
            "encode": _encoder(False, False),
            "decode": _decoder(False, False),
            "raw_encode": _encoder(False, True),
            "raw_decode": _decoder(False, True),
            "url_encode": _encoder(True, False),
            "url_decode": _decoder(True, False),
            "raw_url_encode": _encoder(True, True),
            "raw_url_decode": _decoder(True, True),
        },
        SizeLimits.of(host),
    )
