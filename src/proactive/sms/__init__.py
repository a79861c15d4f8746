"""Messages to residents: wording, the outbox, opt-outs, message states, the sending worker and its
backends."""
