"""Streaming readers of EDGE XML files (lxml iterparse, hardened, columnar output)."""
