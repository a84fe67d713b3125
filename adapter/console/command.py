"""``vsb-adapter console-user``: add, remove and list the console's users.

A password is asked twice on a terminal, or read as one line from standard input when it
is not one (scripts: ``printf '%s\\n' "$PW" | vsb-adapter console-user add NAME``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from adapter.console.users import Role, read_users, remove_user, write_user
from adapter.errors import ConfigError
from adapter.settings import Settings


def add_user_commands(sub: Any) -> None:
    """The ``console-user`` command and its actions, on the CLI's subparsers ``sub``."""
    users = sub.add_parser(
        "console-user",
        help="the web console's users and roles (console.users_file)",
        description="add, remove or list the web console's users (docs/sysadmin.md)",
    )
    actions = users.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a user, or set their role and password")
    add.add_argument("name")
    add.add_argument("--role", choices=[r.value for r in Role], required=True)
    add.set_defaults(func=_add)
    remove = actions.add_parser("remove", help="remove a user (signed out at once)")
    remove.add_argument("name")
    remove.set_defaults(func=_remove)
    listing = actions.add_parser("list", help="the users and their roles")
    listing.set_defaults(func=_list)


def _add(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(settings.console.users_file)
    new = write_user(path, args.name, Role(args.role), _password())
    print(f"{'added' if new else 'updated'} {args.name} ({args.role}) in {path}")
    return 0


def _remove(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(settings.console.users_file)
    if not remove_user(path, args.name):
        print(f"vsb-adapter: {path} has no user {args.name}", file=sys.stderr)
        return 1
    print(f"removed {args.name} from {path}")
    return 0


def _list(settings: Settings, _args: argparse.Namespace) -> int:
    for user in read_users(Path(settings.console.users_file)).values():
        print(f"{user.name:<24} {user.role.value}")
    return 0


def _password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ConfigError("the two passwords differ; nothing written")
    return first
