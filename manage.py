#!/usr/bin/env python
"""Django's manage.py; `aftercare` (the console script) is the same thing under its own name."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercare.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
