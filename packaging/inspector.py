"""Entry script for the PyInstaller bundle (a script, so the package's relative imports work)."""
import sys

from app.__main__ import run

if __name__ == "__main__":
    sys.exit(run())
