"""Google Calendar and Drive: credentials and the provider, against tests/google_emulator."""
