"""An emulator of Google Calendar v3, Drive v3 and the OAuth 2.0 token endpoint, for tests.

It speaks HTTP on a free loopback port to the product's real google-api-python-client and
google-auth code.  Each module's docstring says which Google behaviour it emulates and where
Google documents it: ``oauth`` (token endpoint), ``calendar_api`` (events, freebusy),
``recurrence`` (times, RRULE expansion, instance ids), ``drive_api`` (files, permissions),
``batch`` (multipart batches), ``faults`` (injected failures), ``fields`` (partial responses).

Control API (see :class:`GoogleEmulator`)::

    with GoogleEmulator() as emu:                     # or emu.start() ... emu.stop()
        emu.add_user("ann@acme.example", time_zone="Europe/Berlin")
        key = emu.write_service_account_key(tmp / "key.json")    # token_uri = emu.url + "token"
        emu.deny_delegation(email); emu.write_authorized_user_file(path, email)
        emu.write_oauth_client_file(path); emu.issue_authorization_code(email)
        emu.expire_access_tokens(); emu.expire_sync_tokens(email=None)
        emu.service("calendar", email)                # a person, never faulted or counted
        emu.faults.set(rate=0.2, seed=1, kinds=(...), include_token=False, applied=0.0)
        emu.faults.fail_next(n, kind, applied=False); emu.faults.clear()
        emu.faults.fail_next_writes(n, kind="503", applied=False)   # reads go through
        emu.faults.fail_method("drive.permissions.create", n, kind)  # that method only
        emu.user_rate_limit = (n, seconds)
        emu.counts; emu.reset_counts(); emu.requests_log; emu.sent_updates
        # counts: calls by method id; "batch" envelopes, "batch.parts" the calls they held
        emu.events(email); emu.drive_files(); emu.doc_text(id); emu.edit_doc(id, text)
        emu.drive_notifications; emu.grant_file_to_app(file_id, client_id)
        emu.freebusy_overflow = "per_calendar" | "400"

Known deviations from Google: error messages Google does not document (sync token with an
incompatible parameter, a too-large batch, unsupported conversions) are the emulator's own
wording; the status of a freebusy query over 50 calendars is per calendar by default (the
documented ``tooManyCalendarsRequested`` reason) and may be a 400 in reality; a never-ending
series expands to at most ``calendar.expansion_limit`` (1000) instances when nothing bounds
it; an organizer's write takes the attendees' ``responseStatus`` as sent; an attendee's
private-only change to one instance makes an exception everyone's sync sees; Markdown and HTML
imports keep plain text only (headings, emphasis and links are dropped, list items become
``* ``); ``events.instances`` of a single event answers that event; an instance nobody changed
has its series' etag, and changing one instance leaves its series' etag as it was (Google
documents neither); only Calendar ``events``/``freebusy`` and Drive ``files``/``permissions``
are emulated (other methods answer 501); a media upload inside a batch (which Google does not
take either: "You cannot use a media upload object in a batch request") is refused with the
emulator's own 400 wording.
"""

from .client import build_service, discovery_document
from .server import USER_SCOPES, GoogleEmulator

__all__ = ["USER_SCOPES", "GoogleEmulator", "build_service", "discovery_document"]
