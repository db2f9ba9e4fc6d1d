"""Photo sources: folder watching and camera capture (Qt-free)."""
