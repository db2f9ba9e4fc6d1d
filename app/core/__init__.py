"""Qt-free core of the app: model loading, scoring, storage, rules. No torch, no Qt."""
