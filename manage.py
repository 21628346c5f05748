#!/usr/bin/env python
"""Django's manage.py; the installed `junkai` command does the same."""

from junkai.cli import main

if __name__ == "__main__":
    main()
