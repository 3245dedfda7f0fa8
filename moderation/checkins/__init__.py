"""Private check-ins: a moderator's one-to-one conversation with a member (docs/checkins.md)."""
