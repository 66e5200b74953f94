"""The local web chat adapter: HTML rendering of replies."""
