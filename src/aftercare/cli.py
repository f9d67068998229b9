"""The `aftercare` console script: Django's management commands under our own name.

aftercare migrate
aftercare demo --store demo
aftercare serve --port 8000
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercare.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["aftercare", *sys.argv[1:]])


if __name__ == "__main__":
    main()
