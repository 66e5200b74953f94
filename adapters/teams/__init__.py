"""The Microsoft Teams adapter: Adaptive Card rendering and the Bot Framework app."""
