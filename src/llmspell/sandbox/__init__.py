"""The sandbox: one policy for everything a spell can reach outside its VM.

See :mod:`.policy` for the model (Deno's: nothing unless granted), :mod:`.paths`,
:mod:`.net` and :mod:`.env` for the checks and the I/O that goes through them,
and :mod:`.flags` for the command-line form.
"""

from .env import get_env
from .flags import add_policy_arguments, policy_from_args
from .net import CheckedURL, Response, check_net_async, fetch
from .paths import list_dir, read_bytes, resolve_path, write_bytes
from .policy import Policy
from .sizes import parse_size

__all__ = [
    "CheckedURL", "Policy", "Response", "add_policy_arguments", "check_net_async", "fetch", "get_env",
    "list_dir", "parse_size", "policy_from_args", "read_bytes", "resolve_path", "write_bytes",
]
