"""PySide6 widgets only: windows, panels and workers that call app.core."""
