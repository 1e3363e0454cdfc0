"""Input and output: files, boundary files, the store, exports, the alert database (layer 1)."""
