"""The official ScanNet v2 split lists (scene ids), shipped as package data."""
