"""The `rvuedge` command: Django's management commands under one friendly name.

    rvuedge serve [--data PATH] [--hcpcs PATH] [--host H] [--port P] [--workers N] [--threads N]
                  [--timeout S] [--dev] [--no-serve]
    rvuedge data load SOURCE [--release NAME] [--replace]
    rvuedge data load-hcpcs SOURCE
    rvuedge data list [--json]
    rvuedge data update [--source MIRROR-OR-URL] [--json] [--quiet]
    rvuedge price LINE... [--release R] [--locality L] [--setting S] [--json]
    rvuedge price --scenario FILE --json
    rvuedge code CODE [--release R] [--locality L] [--json]
    rvuedge search QUERY... [--json]
    rvuedge content load|status
    rvuedge contract pay CONTRACT.json --wrvus N... [--json] | contract example
    rvuedge benchmarks import|build-medicare|synth|download|list
    rvuedge logbook load-minimums CSV | purge-trash
    rvuedge migrate | createsuperuser | any other manage.py command
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rvuedge.settings")
    # Django is imported only once DJANGO_SETTINGS_MODULE is set.
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(__doc__.strip())
        print("\nAll commands: rvuedge help")
        return
    # Read after the help text: `rvuedge --help` works without usable settings.
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reads the settings module: a configuration error stops here
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"rvuedge: configuration error: {exc}\n")
        raise SystemExit(1) from None
    try:
        execute_from_command_line(["rvuedge", *args])
    except Exception as exc:
        # Only on the error path (Django is imported inside main(), see above).
        from django.db import DatabaseError

        if isinstance(exc, DatabaseError) and _missing_table(exc):
            sys.stderr.write(f"The database has no RVU Edge tables yet ({exc}).\n"
                             "Set it up with `rvuedge migrate`, or run `rvuedge serve` or "
                             "`rvuedge data load SOURCE`, which set it up themselves.\n")
            raise SystemExit(1) from None
        raise


def _missing_table(exc: Exception) -> bool:
    text = str(exc).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


if __name__ == "__main__":
    main()
