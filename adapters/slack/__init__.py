"""The Slack adapter: Block Kit rendering and the Bolt app."""
