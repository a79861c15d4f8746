"""The web app: Twilio's webhooks (and the field app's pages)."""
