"""What chat tells the apps above it, without importing them (docs/architecture.md).

Connected from the listening app's AppConfig.ready (moderation.chat_hooks)."""

from django.dispatch import Signal

# A member's new message is stored: sent by `chat.actions.check_send_message` right after the
# message's transaction (committed, unless the caller holds an outer transaction), once per
# message (never for a resend of the same client_id). Sent with message= (room and author
# loaded). A receiver's failure is logged and never turns her sent message into an error (the
# signal is sent with send_robust); it pushes to sockets only through chat.events.
message_sent = Signal(use_caching=True)
