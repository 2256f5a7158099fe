"""Durable state: key-value data a spell keeps in memory, a JSON file or SQLite (see :mod:`.service`).

The package knows nothing of scripts: the ``state`` bridge converts and delegates to
:class:`StateService` (``host.services.state``).  One module per job: :mod:`.data` (what a state
may hold), :mod:`.keys` (dotted keys), :mod:`.store` (the protocol and the limits),
:mod:`.memory`, :mod:`.jsonfile`, :mod:`.sqlite` (the backends, files through the sandbox's path
walk in :mod:`._files`), :mod:`.transforms` and :mod:`.merge` (new states from old).
"""

from .service import PERSISTENCES, State, StateService
from .transforms import DEFAULT_SECRET_PATTERNS

__all__ = ["DEFAULT_SECRET_PATTERNS", "PERSISTENCES", "State", "StateService"]
