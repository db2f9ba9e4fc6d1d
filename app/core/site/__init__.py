"""The site's shared state: stations following each other's supervisor, and the app's view of
training (fine-tune jobs and what the Training panel shows)."""
