"""The ``memory`` store: a table that lives as long as the run."""

from __future__ import annotations

from typing import Any

from .data import copy
from .keys import MISSING
from .store import Store


class MemoryStore(Store):
    kind = "memory"

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        super().__init__()
        #: Checked data, owned by the store (never shared with a caller).
        self.data: dict[str, Any] = data if data is not None else {}

    def _present(self, names: list[str]) -> set[str]:
        return {n for n in names if n in self.data}

    def _read(self, name: str) -> Any:
        return self.data.get(name, MISSING)

    def _write(self, name: str, value: Any, where: str) -> None:
        if value is MISSING:
            self.data.pop(name, None)
        else:
            self.data[name] = value

    def names(self) -> list[str]:
        return sorted(self.data)

    def snapshot(self) -> dict[str, Any]:
        return copy(self.data)
