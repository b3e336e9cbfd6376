"""Small dependency-free helpers (safe to import from data_prep without torch)."""
