"""What accounts tells the apps above it, without importing them (docs/architecture.md).

Each is sent inside the transaction of the change (if there is one); a receiver that pushes to
sockets does so with ``transaction.on_commit`` (chat.receivers)."""

from django.dispatch import Signal

# An account changed in a way her open pages must pick up (her stage: the rooms she may be in).
# Sent with user=.
account_changed = Signal()

# An account was erased: her words are gone and she is logged out; anything still open of hers
# must close. Sent with user= (the renamed, inactive row).
account_erased = Signal()

# One login session ended because she logged out on this device (other devices stay in). Sent
# with session_key=.
login_session_ended = Signal()
