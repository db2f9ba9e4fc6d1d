"""MobileIQA Inspector: the desktop program (imports neither torch nor timm)."""
__version__ = "0.1.0"
